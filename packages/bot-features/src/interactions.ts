/**
 * Discord's interactions endpoint, `POST /discord/interactions`.
 *
 * Order of checks, each before the next: the Ed25519 signature over
 * timestamp + the raw body (bad or missing → 401), the timestamp within
 * 5 minutes either way (→ 401), the signature and then the interaction id
 * never seen before (Redis `SET NX` with a 10-minute TTL, twice the accepted
 * clock window; a replay → 401), and only then JSON parsing.
 *
 * Buttons (`{action}:{entity}:{id}`) act through the same domain services as
 * every other writer, so each click makes the usual outbox events and the
 * worker edits the post in place. The answer is an ephemeral message (flag
 * 64) within Discord's 3 s; work that takes longer is answered with a
 * deferred ephemeral reply (type 5) and completed through the interaction
 * webhook. A click on something already done answers so and changes nothing.
 */
import express, { type Request, type Response, Router } from 'express';
import type { RedisConnection as Redis } from '@flipfix/queue';
import {
  type Db,
  type DbLike,
  claimProblemReport,
  createPartRequestUpdate,
  getPartRequest,
  getProblemReport,
  isAppError,
  setProblemReportStatus,
} from '@flipfix/db';
import { type CustomIdAction, parseCustomId, verifyDiscordSignature } from '@flipfix/discord';
import type { Logger } from '@flipfix/logger';

/** Dependencies of {@link createInteractionsRouter}. */
export interface InteractionsDeps {
  db: Db | DbLike;
  /** DISCORD_PUBLIC_KEY: the application's Ed25519 public key, 64 hex characters. */
  publicKey: string;
  /** For replay protection (seen signatures and interaction ids) and per-record click locks. */
  redis: Redis;
  log: Logger;
  /** Absolute base of the Flipfix site (links in answers). */
  baseUrl: string;
  /** REST base for deferred follow-ups, e.g. `https://discord.com/api` or the simulator's. Default Discord's. */
  discordApiUrl?: string;
  /** Redis key prefix. Default `flipfix`. */
  keyPrefix?: string;
  /** Answer deferred when the work has not finished by then. Default 2000 ms (Discord allows 3 s). */
  deferAfterMs?: number;
  /** Clock, for tests. */
  now?: () => number;
}

/** Interaction and response types used here (Discord's numbers). */
const PING = 1;
const MESSAGE_COMPONENT = 3;
const PONG = 1;
const CHANNEL_MESSAGE = 4;
const DEFERRED_CHANNEL_MESSAGE = 5;
const EPHEMERAL = 64;

/** Seen signatures and ids are kept for twice the accepted timestamp window. */
export const REPLAY_TTL_SECONDS = 600;
const MAX_BODY = '256kb';

interface InteractionUser {
  id?: string;
  username?: string;
  global_name?: string | null;
}
interface Interaction {
  id?: unknown;
  type?: unknown;
  token?: unknown;
  application_id?: unknown;
  data?: { custom_id?: unknown };
  member?: { nick?: string | null; user?: InteractionUser };
  user?: InteractionUser;
}

/** The name a click is recorded under: server nickname, display name, then username. */
export function clickerName(i: Interaction): string {
  const u = i.member?.user ?? i.user;
  const name = i.member?.nick || u?.global_name || u?.username || '';
  // Signed by Discord, but stored in text columns: control characters (NUL breaks Postgres) go.
  const clean = typeof name === 'string' ? name.replace(/[\u0000-\u001F\u007F\uD800-\uDFFF]/gu, '') : '';
  return clean.trim().slice(0, 100) || 'Someone on Discord';
}

function ephemeral(content: string) {
  return { type: CHANNEL_MESSAGE, data: { content, flags: EPHEMERAL, allowed_mentions: { parse: [] } } };
}

/** Runs one button action; returns the confirmation (or refusal) shown to the clicker. */
export async function runAction(db: DbLike, action: CustomIdAction, name: string, redis: Redis, keyPrefix: string): Promise<string> {
  if (action.entity === 'problem_report') {
    const report = await getProblemReport(db, action.id);
    if (action.action === 'claim') {
      if (report.claimedByName) {
        return report.claimedByName === name ? `You already claimed problem report #${report.id}.` : `Already claimed by ${report.claimedByName}.`;
      }
      if (report.status === 'closed') return `Problem report #${report.id} is closed; nothing to claim.`;
      const r = await claimProblemReport(db, action.id, name);
      return r.changed ? `You claimed problem report #${report.id}.` : `Already claimed by ${r.report.claimedByName ?? 'someone else'}.`;
    }
    if (action.action === 'reopen') {
      const r = await setProblemReportStatus(db, action.id, 'open', name);
      return r.changed ? `You reopened problem report #${report.id}.` : `Problem report #${report.id} is already open.`;
    }
    const r = await setProblemReportStatus(db, action.id, 'closed', name);
    return r.changed ? `You closed problem report #${report.id}.` : `Problem report #${report.id} is already closed.`;
  }

  // Part requests: two quick clicks must not write two updates; the service has no
  // compare-and-set, so clicks on one request take turns under a short Redis lock.
  const lockKey = `${keyPrefix}:interactions:lock:part_request:${action.id}`;
  const token = `${Date.now()}-${Math.random()}`;
  for (let i = 0; (await redis.set(lockKey, token, 'PX', 10_000, 'NX')) === null; i++) {
    if (i > 100) return 'Someone else is updating this part request; try again in a moment.';
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  try {
    const request = await getPartRequest(db, action.id);
    const rank = { requested: 0, ordered: 1, received: 2, cancelled: 3 } as const;
    if (request.status === 'cancelled') return `Part request #${request.id} was cancelled.`;
    if (rank[request.status] >= rank[action.action]) return `Part request #${request.id} is already marked ${request.status}.`;
    await createPartRequestUpdate(db, action.id, { text: `Marked ${action.action} from Discord`, newStatus: action.action, postedByName: name });
    return `You marked part request #${request.id} ${action.action}.`;
  } finally {
    // Release only our own lock (it may have expired and been taken by another click).
    await redis.eval("if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0", 1, lockKey, token);
  }
}

/**
 * An Express router answering `POST /discord/interactions`. It reads the raw
 * body itself (`express.raw`), so mount it before any JSON body parser:
 * `app.use(createInteractionsRouter({...}))`.
 */
export function createInteractionsRouter(deps: InteractionsDeps): Router {
  const router = Router();
  const prefix = deps.keyPrefix ?? 'flipfix';
  const now = deps.now ?? Date.now;
  const apiUrl = (deps.discordApiUrl ?? 'https://discord.com/api').replace(/\/+$/, '');
  const deferAfterMs = deps.deferAfterMs ?? 2000;
  const log = deps.log.child({ module: 'interactions' });

  const refuse = (res: Response, reason: string) => {
    log.warn({ reason }, 'interaction refused');
    res.status(401).json({ error: 'invalid request signature' });
  };

  /** True the first time a key is seen within the replay window. */
  const firstSeen = async (kind: string, value: string) =>
    (await deps.redis.set(`${prefix}:interactions:${kind}:${value}`, '1', 'EX', REPLAY_TTL_SECONDS, 'NX')) === 'OK';

  router.post('/discord/interactions', express.raw({ type: () => true, limit: MAX_BODY }), async (req: Request, res: Response) => {
    const raw: unknown = Buffer.isBuffer(req.body) ? req.body : (req as { rawBody?: unknown }).rawBody;
    if (!Buffer.isBuffer(raw)) {
      // A JSON parser ran first and the exact bytes are gone: nothing can be verified.
      log.error('interactions endpoint mounted after a body parser; the raw body is not available');
      refuse(res, 'no raw body');
      return;
    }
    const signature = req.get('x-signature-ed25519');
    const verdict = verifyDiscordSignature({
      publicKeyHex: deps.publicKey,
      signatureHex: signature,
      timestamp: req.get('x-signature-timestamp'),
      rawBody: raw,
      nowMs: now(),
      maxAgeSeconds: 300,
    });
    if (!verdict.ok) return refuse(res, verdict.reason);
    if (!(await firstSeen('sig', signature!.toLowerCase()))) return refuse(res, 'replayed signature');

    let interaction: Interaction;
    try {
      interaction = JSON.parse(raw.toString('utf8')) as Interaction;
    } catch {
      res.status(400).json({ error: 'invalid JSON' });
      return;
    }
    if (typeof interaction !== 'object' || interaction === null) {
      res.status(400).json({ error: 'invalid interaction' });
      return;
    }
    if (typeof interaction.id === 'string' && !(await firstSeen('id', interaction.id))) return refuse(res, 'replayed interaction id');

    if (interaction.type === PING) {
      res.json({ type: PONG });
      return;
    }
    if (interaction.type !== MESSAGE_COMPONENT) {
      res.json(ephemeral('This command is not supported.'));
      return;
    }
    const action = parseCustomId(interaction.data?.custom_id);
    if (action === null) {
      log.warn({ customId: String(interaction.data?.custom_id).slice(0, 100) }, 'unknown button');
      res.json(ephemeral('This button is not recognized; nothing was changed.'));
      return;
    }
    const name = clickerName(interaction);
    const clickLog = log.child({ interactionId: interaction.id, action: action.action, entity: action.entity, id: action.id });

    const work = runAction(deps.db, action, name, deps.redis, prefix).catch((err: unknown) => {
      if (isAppError(err) && err.code === 'not_found') return `That ${action.entity.replace('_', ' ')} no longer exists.`;
      clickLog.error({ err }, 'button action failed');
      return 'Something went wrong; nothing was changed. Please try again.';
    });
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), deferAfterMs);
    });
    const answer = await Promise.race([work, late]);
    clearTimeout(timer);
    if (answer !== null) {
      clickLog.info('button handled');
      res.json(ephemeral(answer));
      return;
    }

    // Too slow for the 3 s deadline: acknowledge now, then edit the "thinking" reply.
    res.json({ type: DEFERRED_CHANNEL_MESSAGE, data: { flags: EPHEMERAL } });
    const content = await work;
    const appId = typeof interaction.application_id === 'string' ? interaction.application_id : '';
    const token = typeof interaction.token === 'string' ? interaction.token : '';
    if (!/^\d{1,20}$/.test(appId) || !/^[\w.-]{1,500}$/.test(token)) {
      clickLog.warn('cannot follow up: no application id or token');
      return;
    }
    try {
      const r = await fetch(`${apiUrl}/v10/webhooks/${appId}/${token}/messages/@original`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ content, allowed_mentions: { parse: [] } }),
        signal: AbortSignal.timeout(10_000),
      });
      if (!r.ok) clickLog.warn({ status: r.status }, 'deferred follow-up refused');
      else clickLog.info('button handled (deferred)');
    } catch (err) {
      clickLog.warn({ err }, 'deferred follow-up failed');
    }
  });
  return router;
}
