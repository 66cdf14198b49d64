/**
 * The bot delivery path: one processor for every bot `deliver` job, whatever
 * its size. A steady stream (25 new posts from one relay batch), a flood
 * batch, a retry, a redelivery and a single edit are the same code; the
 * sizes only change how many rows each statement touches.
 *
 * One run:
 *  1. reads the job's ledger rows (one SELECT) and their records (one query
 *     per record type); rows already finished, or taken by another batch,
 *     are dropped (their own job or leader sends them);
 *  2. stops at once while the invalid-request brake is on: the whole job
 *     waits as a delayed job;
 *  3. reserves a rate-limit slot per post (one Redis round trip each, all at
 *     once); a channel out of slots keeps its posts in this job, to wait;
 *  4. claims the posts it will send (one UPDATE): a post on its own claims
 *     itself; with a backlog (the job waited before, it holds the window's
 *     last slot, or it holds more posts for the channel than the channel
 *     has slots left) a post leads a flood batch and claims the oldest
 *     pending posts of its channel with it; a row claimed by an earlier run
 *     of this job is resent exactly as claimed, under the same nonce;
 *  5. sends everything over a pool of REST clients, records what Discord
 *     created (one UPDATE), and hands every failure to `decide` (the one
 *     decision, in @flipfix/engine);
 *  6. what must wait (a slot, a 429) or be tried again (a transient failure)
 *     stays in THIS job: its payload is cut down to those rows and the job
 *     is moved to delayed, or thrown for BullMQ's backoff. A post never
 *     crosses the queue twice.
 */
import type { REST } from '@discordjs/rest';
import { DelayedError, type Job } from 'bullmq';
import { type Db, ledger, type NotifySettings, nonceKeyOf, type SourceRecords } from '@flipfix/db';
import {
  type DiscordFailure,
  classifyDiscordError,
  editMessage,
  formatPost,
  formatStatusEdit,
  packedLinkButtons,
  nonceFor,
  postMessage,
  unarchiveThread,
} from '@flipfix/discord';
import { type AfterPostContext, attemptOf, type Decision, DISCORD_CODES, handleFailure, type InvalidRequestBrake } from '@flipfix/engine';
import type { EntityType, EventType, PostSubject } from '@flipfix/events';
import type { Logger } from '@flipfix/logger';
import { type BotDeliveryJob, DELIVERY_JOB_MAX, JOBS, parseJob } from '@flipfix/queue';
import type { RESTPatchAPIChannelMessageJSONBody, RESTPostAPIChannelMessageJSONBody } from 'discord-api-types/v10';
import { BATCH_CLAIM_LIMIT, fitPackedEdit, packForLeader } from './batching';
import type { Metrics } from './metrics';
import type { SharedRateLimiter } from './rate-limiter';

/** What the bot path needs; built once by the worker. */
export interface BotPathDeps {
  db: Db;
  /** Clients to spread posts over, round robin: one client sends a channel's posts one at a time. */
  posters: readonly REST[];
  /** Set again after a 401 (@discordjs/rest forgets it), so a fixed token is picked up. */
  botToken: string;
  limiter: SharedRateLimiter;
  brake: Pick<InvalidRequestBrake, 'state'>;
  settings: () => NotifySettings;
  baseUrl: string;
  /** The source's records: every post and edit is built from them, fresh. */
  records: Pick<SourceRecords, 'loadPostSubjects' | 'actions'>;
  log: Logger;
  metrics: Metrics;
  afterPost?: ((post: AfterPostContext) => Promise<void>) | undefined;
  resolveChannel?: ((subject: PostSubject, channelId: string) => Promise<string>) | undefined;
  /** Flood batching (default on): pack a channel's backlog into messages of up to 10 embeds. */
  batching?: boolean | undefined;
  /**
   * Most deliveries in flight at once in this process (default 100): posts
   * beyond what the clients can carry would only wait in memory holding claims.
   */
  maxInFlight?: number | undefined;
}

/** What one run did, for logs, the dashboard and tests. */
export interface BotRunResult {
  delivered: number;
  skipped: number;
  failed: number;
  /** Rows still open, kept in the job (delayed or retried). */
  waiting: number;
}

/** How long a job waits before looking at the invalid-request brake again. */
const BRAKE_RECHECK_MS = 5000;

interface Row {
  id: string;
  event_id: string;
  target: string;
  target_key: string;
  action: string;
  status: string;
  batch_id: string | null;
  send_generation: number;
  type: string;
  entity_type: string;
  entity_id: number;
  event_created_at: Date;
}

const ROWS_SQL = `SELECT d.id, d.event_id, d.target, d.target_key, d.action, d.status, d.batch_id, d.send_generation,
            e.type, e.entity_type, e.entity_id, e.created_at AS event_created_at
       FROM deliveries d JOIN outbox_events e ON e.id = d.event_id
      WHERE d.id = ANY($1::uuid[])
      ORDER BY e.seq`;

/** A post with its record and the channel it goes to. */
interface Candidate {
  row: Row;
  subject: PostSubject;
  channelId: string;
}

/** One message to send: a post on its own, or a flood batch led by `leader`. */
interface Send {
  leader: Row;
  channelId: string;
  slot: string | null;
  body: RESTPostAPIChannelMessageJSONBody;
  /** The rows in the message with their first embed's index and their own body. */
  members: { row: Row; embedIndex: number; body: RESTPostAPIChannelMessageJSONBody; subject: PostSubject }[];
}

/** The rows of this run that stay in the job, and why. */
class Remaining {
  readonly waiting = new Set<string>();
  readonly retrying = new Set<string>();
  waitMs = Number.POSITIVE_INFINITY;
  retryReason = '';

  wait(ids: Iterable<string>, ms: number): void {
    for (const id of ids) this.waiting.add(id);
    this.waitMs = Math.min(this.waitMs, Math.max(1, ms));
  }

  retry(ids: Iterable<string>, reason: string): void {
    for (const id of ids) this.retrying.add(id);
    this.retryReason = reason;
  }

  /** Rows this run finished (sent, or decided for good): nothing remains for them. */
  done(ids: Iterable<string>): void {
    for (const id of ids) {
      this.waiting.delete(id);
      this.retrying.delete(id);
    }
  }

  /** Adds a decision's job action for the rows it covers (and only that). */
  follow(decision: Decision, ids: readonly string[]): void {
    this.done(ids);
    if (decision.job.kind === 'delay') this.wait(ids, decision.job.ms);
    else if (decision.job.kind === 'retry') this.retry(ids, decision.ledger.reason);
  }
}

/** The BullMQ processor for the bot queue. */
export function createBotProcessor(deps: BotPathDeps) {
  if (deps.posters.length === 0) throw new RangeError('at least one REST client is needed');
  let turn = 0;
  const nextPoster = () => deps.posters[turn++ % deps.posters.length]!;
  const inFlight = new Semaphore(deps.maxInFlight ?? 100);
  return async (job: Job, token?: string): Promise<BotRunResult> => {
    const data = parseJob(JOBS.deliverBot, job);
    const result: BotRunResult = { delivered: 0, skipped: 0, failed: 0, waiting: 0 };
    const remaining = new Remaining();
    const weight = Math.min(data.deliveryIds.length, deps.maxInFlight ?? 100);
    await inFlight.acquire(weight);
    try {
      await run(deps, nextPoster, job, data, result, remaining);
    } finally {
      inFlight.release(weight);
    }
    return await keepWhatRemains(job, token, data, result, remaining);
  };
}

/**
 * Cuts the job down to its open rows and puts it back: thrown for BullMQ's
 * backoff when a row is to be retried, else delayed until the shortest wait
 * is over. Done when nothing remains.
 */
async function keepWhatRemains(job: Job, token: string | undefined, data: BotDeliveryJob, result: BotRunResult, remaining: Remaining): Promise<BotRunResult> {
  const open = [...new Set([...remaining.retrying, ...remaining.waiting])].slice(0, DELIVERY_JOB_MAX);
  result.waiting = open.length;
  if (open.length === 0) return result;
  const next: BotDeliveryJob = { deliveryIds: open, ...(remaining.waiting.size > 0 || data.backlog ? { backlog: true } : {}) };
  if (next.deliveryIds.join() !== data.deliveryIds.join() || next.backlog !== data.backlog) await job.updateData(next);
  if (remaining.retrying.size > 0) throw new Error(remaining.retryReason);
  await job.moveToDelayed(Date.now() + Math.ceil(remaining.waitMs), token);
  throw new DelayedError();
}

async function loadRows(db: Db, ids: readonly string[]): Promise<Row[]> {
  return (await db.pool.query<Row>(ROWS_SQL, [ids])).rows;
}

async function subjectsOf(deps: BotPathDeps, rows: readonly Row[]): Promise<(PostSubject | null)[]> {
  return deps.records.loadPostSubjects(rows.map((r) => ({ type: r.type as EventType, entityType: r.entity_type as EntityType, entityId: r.entity_id })));
}

async function run(
  deps: BotPathDeps,
  nextPoster: () => REST,
  job: Job,
  data: BotDeliveryJob,
  result: BotRunResult,
  remaining: Remaining,
): Promise<void> {
  const rows = await loadRows(deps.db, data.deliveryIds);
  // Finished rows need nothing; a row in another leader's batch is that leader's to send.
  const open = rows.filter((r) => (r.status === 'pending' || r.status === 'sending') && r.target === 'bot' && (r.batch_id === null || r.batch_id === r.id));
  if (open.length === 0) return;

  const brake = await deps.brake.state();
  if (brake.on) {
    deps.log.warn({ count: brake.count, threshold: brake.threshold, deliveries: open.length }, 'invalid-request brake on; holding deliveries');
    // Looked at again soon: the count may fall sooner than the window says (an admin fixed the cause).
    remaining.wait(
      open.map((r) => r.id),
      Math.min(brake.retryAfterMs, BRAKE_RECHECK_MS),
    );
    return;
  }

  const posts = open.filter((r) => r.action === 'post');
  if (posts.length > 0) await deliverPosts(deps, nextPoster, job, data, posts, result, remaining);
  for (const edit of open.filter((r) => r.action === 'edit')) await deliverEdit(deps, nextPoster(), job, edit, result, remaining);
}

async function deliverPosts(
  deps: BotPathDeps,
  nextPoster: () => REST,
  job: Job,
  data: BotDeliveryJob,
  posts: readonly Row[],
  result: BotRunResult,
  remaining: Remaining,
): Promise<void> {
  const subjects = await subjectsOf(deps, posts);
  const gone = posts.filter((_, i) => subjects[i] === null).map((r) => r.id);
  if (gone.length > 0) result.skipped += (await ledger.skipped(deps.db.pool, gone, 'the record no longer exists')).length;

  const settings = deps.settings();
  const format = (s: PostSubject) =>
    formatPost(s, { baseUrl: deps.baseUrl, mode: 'bot', actions: deps.records.actions, roleMention: settings.unplayableRoleId ? { roleId: settings.unplayableRoleId } : null });
  const candidates: Candidate[] = [];
  for (const [i, row] of posts.entries()) {
    const subject = subjects[i];
    if (!subject) continue;
    let channelId = row.target_key;
    if (deps.resolveChannel) {
      try {
        channelId = await deps.resolveChannel(subject, row.target_key);
      } catch (err) {
        await fail(deps, job, classifyDiscordError(err), [row.id], row.target_key, result, remaining);
        continue;
      }
    }
    candidates.push({ row, subject, channelId });
  }

  // Every slot ends settled (sent) or released (not sent): a run that fails
  // before sending gives back all it holds rather than leave them in flight
  // for the REST timeout (release is idempotent).
  const reserved = await Promise.allSettled(candidates.map((c) => deps.limiter.reserveSlot(c.channelId)));
  const sends: Send[] = [];
  try {
    const slots = reserved.map((r) => {
      if (r.status === 'rejected') throw r.reason;
      return r.value;
    });
    await prepareSends(deps, data, candidates, slots, format, result, remaining, sends);
  } catch (err) {
    await Promise.all(reserved.map((r, i) => (r.status === 'fulfilled' ? deps.limiter.release(candidates[i]!.channelId, r.value.slot).catch(() => undefined) : undefined)));
    throw err;
  }
  if (sends.length === 0) return;

  const outcomes = await Promise.all(
    sends.map(async (send) => {
      const started = Date.now();
      try {
        const nonce = nonceFor(nonceKeyOf({ id: send.leader.id, sendGeneration: send.leader.send_generation }));
        const message = await postMessage(nextPoster(), send.channelId, send.body, { nonce });
        return { send, message, callMs: Date.now() - started, err: null };
      } catch (err) {
        return { send, message: null, callMs: Date.now() - started, err };
      } finally {
        await deps.limiter.settle(send.channelId, send.slot).catch(() => undefined);
      }
    }),
  );

  const delivered: Parameters<typeof ledger.delivered>[1][number][] = [];
  const posted: { send: Send; messageId: string; callMs: number }[] = [];
  for (const o of outcomes) {
    if (!o.message) continue;
    const { send, message } = o;
    let members = send.members;
    const sentEmbeds = send.body.embeds?.length ?? 0;
    const gotEmbeds = (message as { embeds?: unknown[] }).embeds?.length ?? sentEmbeds;
    if (members.length > 1 && gotEmbeds !== sentEmbeds) {
      // Discord answered with an earlier message under this nonce holding
      // other posts. Only the leader is known to be in it; the others wait.
      deps.log.warn({ deliveryId: send.leader.id, sentEmbeds, gotEmbeds }, 'nonce matched an earlier message with other contents; the others wait');
      const others = members.filter((m) => m.row.id !== send.leader.id).map((m) => m.row.id);
      await ledger.retryLater(deps.db.pool, others, { keepClaim: false });
      remaining.wait(others, 1);
      members = members.filter((m) => m.row.id === send.leader.id);
    }
    const packed = members.length > 1;
    for (const m of members) {
      delivered.push({
        id: m.row.id,
        channelId: send.channelId,
        messageId: message.id,
        embedIndex: m.embedIndex,
        batchId: packed ? send.leader.id : null,
        payload: packed ? m.body : send.body,
      });
    }
    posted.push({ send: { ...send, members }, messageId: message.id, callMs: o.callMs });
  }
  if (delivered.length > 0) {
    await ledger.delivered(deps.db.pool, delivered);
    // A flood batch may have carried rows this job was keeping to wait.
    remaining.done(delivered.map((d) => d.id));
    result.delivered += delivered.length;
    for (const p of posted) {
      for (const m of p.send.members) deps.metrics.observeDelivered('bot', m.row.event_created_at, p.callMs);
      deps.log.info(
        { deliveryId: p.send.leader.id, eventId: p.send.leader.event_id, type: p.send.leader.type, channelId: p.send.channelId, messageId: p.messageId, embeds: p.send.members.length },
        p.send.members.length > 1 ? 'posted batch to discord' : 'posted to discord',
      );
    }
    const afterPost = deps.afterPost;
    if (afterPost) {
      // Threads, reactions and buttons belong to a post of its own, not a packed message.
      await Promise.all(
        posted
          .filter((p) => p.send.members.length === 1)
          .map((p) =>
            afterPost({
              deliveryId: p.send.leader.id,
              eventType: p.send.leader.type as EventType,
              subject: p.send.members[0]!.subject,
              channelId: p.send.channelId,
              messageId: p.messageId,
            }).catch((err) => deps.log.warn({ err, deliveryId: p.send.leader.id }, 'post-delivery step failed')),
          ),
      );
    }
  }

  for (const o of outcomes) {
    if (o.message) continue;
    const ids = o.send.members.map((m) => m.row.id);
    await fail(deps, job, classifyDiscordError(o.err), ids, o.send.channelId, result, remaining);
  }
}

/**
 * Sorts a run's posts by the slots they got: the ones without a slot wait
 * (their slot, if any, is released), singles are claimed, leaders claim
 * their batch (a channel's slots go to its oldest posts not yet taken by an
 * earlier leader of this run); each post that will be sent is pushed onto
 * `sends` with its slot, and each slot that will not be used is released.
 */
async function prepareSends(
  deps: BotPathDeps,
  data: BotDeliveryJob,
  candidates: readonly Candidate[],
  slots: readonly { waitMs: number; remaining: number | null; slot: string | null }[],
  format: (s: PostSubject) => RESTPostAPIChannelMessageJSONBody,
  result: BotRunResult,
  remaining: Remaining,
  sends: Send[],
): Promise<void> {
  const settings = deps.settings();
  // A channel with more posts in this run than slots granted to it has a
  // backlog now: its messages are packed from the first one, not only once
  // the window's last slot is reached. A lone post still goes out on its own.
  const postsIn = new Map<string, number>();
  const grantedIn = new Map<string, number>();
  for (const [i, { channelId }] of candidates.entries()) {
    postsIn.set(channelId, (postsIn.get(channelId) ?? 0) + 1);
    if (slots[i]!.waitMs <= 0) grantedIn.set(channelId, (grantedIn.get(channelId) ?? 0) + 1);
  }
  const saturated = new Map<string, number>();
  const singles: { row: Row; subject: PostSubject; channelId: string; slot: string | null }[] = [];
  const resends: typeof singles = [];
  // Per channel, the slots its flood batches will use and the posts that may
  // lead them, oldest first: a post whose row an earlier leader of this run
  // took hands its slot to the next post not yet taken, so a window's slots
  // all carry batches rather than go back unused.
  const leaderSlots = new Map<string, (string | null)[]>();
  const mayLead = new Map<string, { row: Row; subject: PostSubject }[]>();
  const unused: Promise<void>[] = [];
  for (const [i, { row, subject, channelId }] of candidates.entries()) {
    const { waitMs, remaining: left, slot } = slots[i]!;
    const resend = row.batch_id === row.id;
    // Threads route posts to other channels, so batching is off while they are on.
    const floodBatching = deps.batching !== false && !settings.threadsEnabled && channelId === row.target_key;
    const backlog = data.backlog === true || left === 0 || postsIn.get(channelId)! > (grantedIn.get(channelId) ?? 0);
    if (floodBatching && backlog && !resend) mayLead.set(channelId, [...(mayLead.get(channelId) ?? []), { row, subject }]);
    const waitFor = saturated.get(channelId) ?? waitMs;
    if (waitFor > 0) {
      // Out of slots: the rest of this channel's posts wait in this job.
      if (waitMs > 0) deps.metrics.rateLimitWaits.inc();
      unused.push(deps.limiter.release(channelId, slot));
      saturated.set(channelId, waitFor);
      remaining.wait([row.id], waitFor);
      continue;
    }
    if (resend) resends.push({ row, subject, channelId, slot });
    else if (floodBatching && backlog) leaderSlots.set(channelId, [...(leaderSlots.get(channelId) ?? []), slot]);
    else singles.push({ row, subject, channelId, slot });
  }
  await Promise.all(unused);

  // Posts on their own first (one UPDATE for all); then the leaders, which
  // claim the oldest posts of their channel that are still unclaimed.
  if (singles.length > 0) {
    const claimed = new Set(await ledger.claim(deps.db.pool, singles.map((p) => p.row.id)));
    for (const p of singles) {
      if (claimed.has(p.row.id)) {
        const body = format(p.subject);
        sends.push({ leader: p.row, channelId: p.channelId, slot: p.slot, body, members: [{ row: p.row, embedIndex: 0, body, subject: p.subject }] });
      } else {
        // Taken by a flood batch leader in the meantime: that leader posts it.
        await deps.limiter.release(p.channelId, p.slot);
      }
    }
  }
  // A leader retried after a failure resends its batch exactly as it was claimed.
  for (const p of resends) {
    const members = await ledger.batchMembers(deps.db.pool, p.row.id);
    const send = members.includes(p.row.id) ? await formBatch(deps, p.row, p.subject, p.channelId, p.slot, members, format, result, remaining) : null;
    if (send) sends.push(send);
    else await deps.limiter.release(p.channelId, p.slot);
  }
  for (const [channelId, free] of leaderSlots) {
    const taken = new Set<string>();
    for (const lead of mayLead.get(channelId) ?? []) {
      if (taken.has(lead.row.id)) continue;
      if (free.length === 0) {
        // Not reached in this window: it waits in this job for the next one.
        remaining.wait([lead.row.id], saturated.get(channelId) ?? 1);
        continue;
      }
      const members = await claimBatch(deps, lead.row);
      // Empty when another leader took this post: that leader sends it.
      if (!members.includes(lead.row.id)) continue;
      for (const id of members) taken.add(id);
      const send = await formBatch(deps, lead.row, lead.subject, channelId, free.shift()!, members, format, result, remaining);
      if (send) sends.push(send);
    }
    await Promise.all(free.map((slot) => deps.limiter.release(channelId, slot)));
  }
}

/** Claims a flood batch led by `leader`, in one transaction. */
async function claimBatch(deps: BotPathDeps, leader: Row): Promise<string[]> {
  const client = await deps.db.pool.connect();
  try {
    await client.query('BEGIN');
    const members = await ledger.claimBatch(client, leader.id, leader.target_key, BATCH_CLAIM_LIMIT);
    await client.query('COMMIT');
    return members;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/**
 * Builds the message of a flood batch: formats its members as they are now,
 * packs them (the ones that do not fit in the leader's message go back to
 * pending and wait in this job) and counts the attempt.
 */
async function formBatch(
  deps: BotPathDeps,
  leader: Row,
  leaderSubject: PostSubject,
  channelId: string,
  slot: string | null,
  memberIds: readonly string[],
  format: (s: PostSubject) => RESTPostAPIChannelMessageJSONBody,
  result: BotRunResult,
  remaining: Remaining,
): Promise<Send | null> {
  const others = await loadRows(
    deps.db,
    memberIds.filter((id) => id !== leader.id),
  );
  const otherSubjects = await subjectsOf(deps, others);
  const gone = others.filter((_, i) => otherSubjects[i] === null).map((r) => r.id);
  if (gone.length > 0) result.skipped += (await ledger.skipped(deps.db.pool, gone, 'the record no longer exists')).length;
  const byId = new Map<string, { row: Row; subject: PostSubject }>([[leader.id, { row: leader, subject: leaderSubject }]]);
  for (const [i, row] of others.entries()) {
    const subject = otherSubjects[i];
    if (subject) byId.set(row.id, { row, subject });
  }
  const ordered = memberIds.flatMap((id) => {
    const m = byId.get(id);
    return m ? [{ id, ...m, body: format(m.subject) }] : [];
  });
  const batch = packForLeader(leader.id, ordered);
  if (batch.excluded.length > 0) {
    await ledger.retryLater(deps.db.pool, batch.excluded, { keepClaim: false });
    remaining.wait(batch.excluded, 1);
  }
  const members = batch.included.map((m) => {
    const p = byId.get(m.id)!;
    return { row: p.row, subject: p.subject, embedIndex: m.embedIndex, body: ordered.find((o) => o.id === m.id)!.body };
  });
  await ledger.resend(
    deps.db.pool,
    members.map((m) => m.row.id),
  );
  return { leader, channelId, slot, body: batch.body, members };
}

/** Carries out the one decision for a failed send of `ids`. */
async function fail(
  deps: BotPathDeps,
  job: Job,
  failure: DiscordFailure,
  ids: readonly string[],
  scope: string,
  result: BotRunResult,
  remaining: Remaining,
): Promise<void> {
  const resetToken = () => {
    for (const client of deps.posters) client.setToken(deps.botToken);
  };
  const log = deps.log.child({ deliveryId: ids[0] });
  const decision = await handleFailure({ db: deps.db.pool, limiter: deps.limiter, metrics: deps.metrics, log, target: 'bot', resetToken }, failure, attemptOf(job), ids, scope);
  if (decision.ledger.transition === 'failed') result.failed += ids.length;
  if (decision.ledger.transition === 'skipped') result.skipped += ids.length;
  remaining.follow(decision, ids);
}

/** Finds the delivered bot post of the record an edit is about. */
async function findOriginalPost(deps: BotPathDeps, targetKey: string) {
  const [, entity, idText] = targetKey.split(':');
  const entityId = Number(idText);
  const createdType: EventType = entity === 'part_request' ? 'part_request_created' : 'problem_report_created';
  const originals = await deps.db.prisma.delivery.findMany({
    // A post that went out inside a digest has no message of its own to edit.
    where: { target: 'bot', action: 'post', digestKey: null, event: { type: createdType, entityId } },
    orderBy: { createdAt: 'asc' },
  });
  return { entity: entity as EntityType, entityId, createdType, originals };
}

/**
 * Edits the original post of a record in place (a status change). An edit
 * answered 50083 (the post is in an archived thread) unarchives the thread
 * and edits again; 10008 (deleted) and 30046 (too many edits to an old
 * message) end it as skipped with that reason, through `decide`.
 */
async function deliverEdit(deps: BotPathDeps, rest: REST, job: Job, edit: Row, result: BotRunResult, remaining: Remaining): Promise<void> {
  const log = deps.log.child({ deliveryId: edit.id, eventId: edit.event_id, type: edit.type });
  const { entity, entityId, createdType, originals } = await findOriginalPost(deps, edit.target_key);
  const posted = originals.find((d) => d.status === 'delivered' && d.discordMessageId && d.discordChannelId);
  if (!posted) {
    if (originals.some((d) => d.status === 'pending' || d.status === 'sending')) {
      await fail(deps, job, { kind: 'transient', reason: 'the original post is not delivered yet' }, [edit.id], edit.target_key, result, remaining);
    } else {
      result.skipped += (await ledger.skipped(deps.db.pool, [edit.id], 'no earlier post to edit')).length;
    }
    return;
  }
  const [subject] = await deps.records.loadPostSubjects([{ type: createdType, entityType: entity, entityId }]);
  if (!subject) {
    result.skipped += (await ledger.skipped(deps.db.pool, [edit.id], 'the record no longer exists')).length;
    return;
  }
  const channelId = posted.discordChannelId!;
  const messageId = posted.discordMessageId!;
  const scope = `edit:${channelId}`;
  const { waitMs, slot } = await deps.limiter.reserveSlot(scope);
  if (waitMs > 0) {
    deps.metrics.rateLimitWaits.inc();
    remaining.wait([edit.id], waitMs);
    return;
  }
  let body: RESTPatchAPIChannelMessageJSONBody;
  try {
    // A retried edit keeps its claim: a PATCH sent twice changes nothing.
    if (edit.batch_id === edit.id) await ledger.resend(deps.db.pool, [edit.id]);
    else if ((await ledger.claim(deps.db.pool, [edit.id])).length === 0) {
      await deps.limiter.release(scope, slot);
      return;
    }
    body = posted.batchId ? await packedMessageEdit(deps, messageId, posted.id, subject) : formatStatusEdit(subject, { baseUrl: deps.baseUrl, mode: 'bot', actions: deps.records.actions });
  } catch (err) {
    // Not sent: the slot goes back rather than stay in flight for the REST timeout.
    await deps.limiter.release(scope, slot).catch(() => undefined);
    throw err;
  }
  try {
    try {
      await editMessage(rest, channelId, messageId, body);
    } catch (err) {
      const failure = classifyDiscordError(err);
      if (failure.kind !== 'permanent' || failure.code !== DISCORD_CODES.archivedThread) throw err;
      // Discord refuses edits in an archived thread; unarchiving it is what a person would do.
      log.info({ channelId }, 'thread archived; unarchiving it to edit the post');
      await unarchiveThread(rest, channelId);
      await editMessage(rest, channelId, messageId, body);
    }
  } catch (err) {
    await fail(deps, job, classifyDiscordError(err), [edit.id], scope, result, remaining);
    return;
  } finally {
    await deps.limiter.settle(scope, slot).catch(() => undefined);
  }
  await ledger.delivered(deps.db.pool, [{ id: edit.id, channelId, messageId, embedIndex: posted.embedIndex ?? 0, batchId: null, payload: body }]);
  result.delivered += 1;
  log.info({ channelId, messageId }, 'edited discord post');
}

/**
 * The whole body of a packed message after one of its records changed:
 * Discord replaces every embed on edit, so the others are sent again as they
 * were posted (their stored bodies), and the changed record's embeds are
 * fitted so the message stays within Discord's limits.
 */
async function packedMessageEdit(deps: BotPathDeps, messageId: string, changedId: string, subject: PostSubject): Promise<RESTPatchAPIChannelMessageJSONBody> {
  const rows = await deps.db.prisma.delivery.findMany({
    where: { discordMessageId: messageId, action: 'post', status: 'delivered' },
    include: { event: true },
    orderBy: { embedIndex: 'asc' },
  });
  const parts: { embeds: NonNullable<RESTPostAPIChannelMessageJSONBody['embeds']>; changed: boolean }[] = [];
  const bodies: RESTPostAPIChannelMessageJSONBody[] = [];
  for (const row of rows) {
    const changed = row.id === changedId;
    let body = changed ? null : (row.payload as RESTPostAPIChannelMessageJSONBody | null);
    if (!body?.embeds) {
      const s = changed
        ? subject
        : (await deps.records.loadPostSubjects([{ type: row.event.type as EventType, entityType: row.event.entityType as EntityType, entityId: row.event.entityId }]))[0];
      if (!s) continue;
      body = formatPost(s, { baseUrl: deps.baseUrl, mode: 'bot', actions: deps.records.actions });
    }
    parts.push({ embeds: body.embeds ?? [], changed });
    bodies.push(body);
  }
  // A packed message keeps its link buttons, one per record; action buttons stay on single posts.
  return { embeds: fitPackedEdit(parts), components: packedLinkButtons(bodies), allowed_mentions: { parse: [] } };
}

/** A counting semaphore with weights: at most `size` units held at once, the others wait in order. */
class Semaphore {
  #free: number;
  readonly #waiting: { units: number; resolve: () => void }[] = [];

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError('size must be a positive integer');
    this.#free = size;
  }

  acquire(units: number): Promise<void> {
    if (this.#waiting.length === 0 && this.#free >= units) {
      this.#free -= units;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiting.push({ units, resolve }));
  }

  release(units: number): void {
    this.#free += units;
    while (this.#waiting.length > 0 && this.#free >= this.#waiting[0]!.units) {
      const next = this.#waiting.shift()!;
      this.#free -= next.units;
      next.resolve();
    }
  }
}
