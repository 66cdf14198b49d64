/**
 * Admin authentication: the admin token as a Bearer token (JSON API) or as
 * the password of a console session. Sessions are random ids in Redis (JSON,
 * 12 h TTL), each with its own CSRF token; logins are rate-limited per IP in
 * Redis. Tokens are compared in constant time (hashes of equal length).
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
  /** Login attempts per IP per window. */
  loginLimit?: { max: number; windowSeconds: number };
  /** Force `Secure` cookies even without TLS seen by Express. */
  secureCookies?: boolean;
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
      loginLimit: { max: 10, windowSeconds: 15 * 60 },
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
   * Counts one login attempt for `ip`; false once the window's budget is
   * spent. Returns the seconds until the window resets too.
   */
  async countLoginAttempt(ip: string): Promise<{ allowed: boolean; retryAfterSeconds: number }> {
    const key = this.#key('login', ip);
    const [[, count], [, ttl]] = (await this.#o.redis.multi().incr(key).ttl(key).exec()) as [[null, number], [null, number]];
    if (ttl < 0) await this.#o.redis.expire(key, this.#o.loginLimit.windowSeconds);
    const retryAfterSeconds = ttl > 0 ? ttl : this.#o.loginLimit.windowSeconds;
    return { allowed: count <= this.#o.loginLimit.max, retryAfterSeconds };
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
    return (req: Request, res: Response, next: NextFunction) => {
      if (this.hasBearer(req)) {
        next();
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
