/**
 * Admin authentication: the admin token as a Bearer token (JSON API) or as
 * the password of a console session. Sessions are random ids in Redis (JSON,
 * 12 h TTL), each with its own CSRF token. Tokens are compared in constant
 * time (hashes of equal length).
 *
 * Wrong tokens (Bearer or log-in form) are counted in Redis per client and in
 * total over a window; past either budget a wrong token is answered 429, so
 * a client rotating its address (or its `X-Forwarded-For`) is limited by the
 * total. The client is `req.ip`, which is the proxy's forwarded address only
 * when `trust proxy` is configured. The correct token is checked first and
 * always accepted, and never counted: refusing it while limited would let
 * anyone lock the admin out by sending wrong tokens. What makes guessing
 * hopeless is the token's length (at least 32 characters in production).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { RedisConnection as Redis } from '@flipfix/queue';

/** Session cookie name. */
export const SESSION_COOKIE = 'flipfix_admin';
/** Login-form CSRF cookie (double submit, before a session exists). */
export const LOGIN_CSRF_COOKIE = 'flipfix_login_csrf';
/** Header the console's JavaScript-free forms never need, but JSON clients using the session must send. */
export const CSRF_HEADER = 'x-csrf-token';

/** A console session as stored in Redis. */
export interface AdminSession {
  id: string;
  csrf: string;
  createdAt: string;
}

export interface AuthOptions {
  redis: Redis;
  adminToken: string;
  /** Redis key prefix (tests use a unique one). */
  keyPrefix: string;
  sessionTtlSeconds?: number;
  /** Wrong tokens allowed per client and in total per window before answers become 429. */
  authFailureLimit?: AuthFailureLimit;
  /** Force `Secure` cookies even without TLS seen by Express. */
  secureCookies?: boolean;
}

/** Budgets of wrong admin tokens (Bearer and log-in form together). */
export interface AuthFailureLimit {
  /** Wrong tokens per client address per window. */
  perClient: number;
  /** Wrong tokens from all clients together per window. */
  total: number;
  windowSeconds: number;
}

/** Whether a wrong token still gets a plain 401, or a 429 and when to try again. */
export interface AuthFailureVerdict {
  limited: boolean;
  retryAfterSeconds: number;
}

/** SHA-256 then timingSafeEqual: constant time whatever the lengths. */
export function safeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

/** Cookies from the Cookie header (no dependency needed for a name=value list). */
export function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!header) return out;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i < 0) continue;
    const name = part.slice(0, i).trim();
    const value = part.slice(i + 1).trim();
    if (name === '' || name in out) continue;
    try {
      out[name] = decodeURIComponent(value);
    } catch {
      out[name] = value;
    }
  }
  return out;
}

const randomToken = () => randomBytes(32).toString('base64url');

/** Sessions, CSRF and the login rate limit. */
export class AdminAuth {
  readonly #o: Required<Omit<AuthOptions, 'secureCookies'>> & { secureCookies: boolean };

  constructor(options: AuthOptions) {
    this.#o = {
      sessionTtlSeconds: 12 * 3600,
      authFailureLimit: { perClient: 10, total: 100, windowSeconds: 15 * 60 },
      secureCookies: false,
      ...options,
    };
  }

  #key(kind: string, id: string): string {
    return `${this.#o.keyPrefix}:web:${kind}:${id}`;
  }

  /** True when `token` is the admin token. */
  checkToken(token: unknown): boolean {
    return typeof token === 'string' && token.length > 0 && safeEqual(token, this.#o.adminToken);
  }

  /** True for a request carrying `Authorization: Bearer <ADMIN_TOKEN>`. */
  hasBearer(req: Request): boolean {
    const header = req.get('authorization');
    if (!header) return false;
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    return m?.[1] !== undefined && this.checkToken(m[1]);
  }

  /** `req.secure` (TLS or a trusted proxy saying so) or the forced setting. */
  secure(req: Request): boolean {
    return this.#o.secureCookies || req.secure;
  }

  async createSession(res: Response, req: Request): Promise<AdminSession> {
    const session: AdminSession = { id: randomToken(), csrf: randomToken(), createdAt: new Date().toISOString() };
    await this.#o.redis.set(this.#key('session', session.id), JSON.stringify(session), 'EX', this.#o.sessionTtlSeconds);
    res.cookie(SESSION_COOKIE, session.id, {
      httpOnly: true,
      sameSite: 'lax',
      secure: this.secure(req),
      path: '/',
      maxAge: this.#o.sessionTtlSeconds * 1000,
    });
    return session;
  }

  async readSession(req: Request): Promise<AdminSession | null> {
    const id = parseCookies(req.get('cookie'))[SESSION_COOKIE];
    if (!id || !/^[\w-]{20,100}$/.test(id)) return null;
    const raw = await this.#o.redis.get(this.#key('session', id));
    if (raw === null) return null;
    try {
      const parsed = JSON.parse(raw) as AdminSession;
      return parsed.id === id && typeof parsed.csrf === 'string' ? parsed : null;
    } catch {
      return null;
    }
  }

  async destroySession(req: Request, res: Response): Promise<void> {
    const id = parseCookies(req.get('cookie'))[SESSION_COOKIE];
    if (id) await this.#o.redis.del(this.#key('session', id));
    res.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'lax', secure: this.secure(req) });
  }

  /** Stores a one-time notice for the session's next page (post/redirect/get). */
  async setFlash(session: AdminSession, notice: { kind: 'ok' | 'error'; text: string }): Promise<void> {
    await this.#o.redis.set(this.#key('flash', session.id), JSON.stringify(notice), 'EX', 120);
  }

  /** Reads and clears the session's notice. */
  async takeFlash(session: AdminSession): Promise<{ kind: 'ok' | 'error'; text: string } | null> {
    const raw = await this.#o.redis.getdel(this.#key('flash', session.id));
    if (raw === null) return null;
    try {
      return JSON.parse(raw) as { kind: 'ok' | 'error'; text: string };
    } catch {
      return null;
    }
  }

  /** A login-form CSRF token, set as a cookie and echoed in the form. */
  loginCsrf(req: Request, res: Response): string {
    const existing = parseCookies(req.get('cookie'))[LOGIN_CSRF_COOKIE];
    const token = existing && /^[\w-]{20,100}$/.test(existing) ? existing : randomToken();
    res.cookie(LOGIN_CSRF_COOKIE, token, { httpOnly: true, sameSite: 'strict', secure: this.secure(req), path: '/admin/login' });
    return token;
  }

  checkLoginCsrf(req: Request, submitted: unknown): boolean {
    const cookie = parseCookies(req.get('cookie'))[LOGIN_CSRF_COOKIE];
    return typeof submitted === 'string' && cookie !== undefined && safeEqual(submitted, cookie);
  }

  /**
   * Counts one wrong token from `client` (its address) against the client's
   * and the total budget; limited once either is spent.
   */
  async countFailure(client: string): Promise<AuthFailureVerdict> {
    const { perClient, total, windowSeconds } = this.#o.authFailureLimit;
    const keys = [this.#key('authfail', `client:${client.slice(0, 100)}`), this.#key('authfail', 'total')];
    const multi = this.#o.redis.multi();
    for (const key of keys) multi.incr(key).expire(key, windowSeconds, 'NX').ttl(key);
    const replies = (await multi.exec()) ?? [];
    const value = (i: number) => Number(replies[i]?.[1] ?? 0);
    const [clientCount, clientTtl, totalCount, totalTtl] = [value(0), value(2), value(3), value(5)];
    const ttls = [clientCount > perClient ? clientTtl : 0, totalCount > total ? totalTtl : 0];
    const retryAfterSeconds = Math.max(1, ...ttls);
    return { limited: clientCount > perClient || totalCount > total, retryAfterSeconds };
  }

  /**
   * Answers a wrong Bearer token: 401, or 429 with `Retry-After` once the
   * client's or the total budget of wrong tokens is spent.
   */
  async refuseBearer(req: Request, res: Response): Promise<void> {
    const verdict = await this.countFailure(req.ip ?? 'unknown');
    if (verdict.limited) {
      res.setHeader('Retry-After', String(verdict.retryAfterSeconds));
      res.status(429).json({ error: 'too_many_requests', message: `too many wrong admin tokens; try again in ${verdict.retryAfterSeconds} s` });
      return;
    }
    res.setHeader('WWW-Authenticate', 'Bearer realm="flipfix-admin", error="invalid_token"');
    res.status(401).json({ error: 'unauthorized', message: 'wrong admin token' });
  }

  /**
   * Loads the session (if any) into `res.locals.session`. Never refuses:
   * the guards below decide.
   */
  loadSession(): RequestHandler {
    return async (req, res, next) => {
      res.locals.session = await this.readSession(req);
      next();
    };
  }

  /**
   * Guards the admin JSON API: a valid Bearer token, or a session (whose
   * mutating requests must carry the session's CSRF token in `x-csrf-token`).
   */
  requireApi(): RequestHandler {
    return async (req: Request, res: Response, next: NextFunction) => {
      if (this.hasBearer(req)) {
        next();
        return;
      }
      if (/^Bearer\s/i.test(req.get('authorization') ?? '')) {
        await this.refuseBearer(req, res);
        return;
      }
      const session = res.locals.session as AdminSession | null | undefined;
      if (session) {
        if (isSafeMethod(req.method) || safeEqual(req.get(CSRF_HEADER) ?? '', session.csrf)) {
          next();
          return;
        }
        res.status(403).json({ error: 'forbidden', message: `missing or wrong ${CSRF_HEADER} header` });
        return;
      }
      res.setHeader('WWW-Authenticate', 'Bearer realm="flipfix-admin"');
      res.status(401).json({ error: 'unauthorized', message: 'send Authorization: Bearer <ADMIN_TOKEN>' });
    };
  }

  /**
   * Guards console pages: without a session, a browser is sent to the login
   * page (GET) and anything else gets 401; form posts must carry `_csrf`.
   */
  requirePage(): RequestHandler {
    return (req: Request, res: Response, next: NextFunction) => {
      const session = res.locals.session as AdminSession | null | undefined;
      if (!session) {
        if (req.method === 'GET' || req.method === 'HEAD') {
          res.redirect(303, `/admin/login?next=${encodeURIComponent(req.originalUrl)}`);
        } else {
          res.status(401).type('text').send('Log in first.');
        }
        return;
      }
      if (!isSafeMethod(req.method)) {
        const submitted = (req.body as Record<string, unknown> | undefined)?._csrf ?? req.get(CSRF_HEADER);
        if (typeof submitted !== 'string' || !safeEqual(submitted, session.csrf)) {
          res.status(403).type('text').send('This form is missing its CSRF token or it is stale. Reload the page and try again.');
          return;
        }
      }
      next();
    };
  }
}

/** GET, HEAD and OPTIONS change nothing. */
export function isSafeMethod(method: string): boolean {
  return method === 'GET' || method === 'HEAD' || method === 'OPTIONS';
}

/** A relative `next` path inside the console, or `/admin` (no open redirects). */
export function safeNext(next: unknown): string {
  return typeof next === 'string' && /^\/admin(\/|$|\?)/.test(next) && !next.includes('//') && !next.includes('\\') ? next : '/admin';
}
