/**
 * The naive baseline: what a simple integration does with a burst. One REST
 * post per event, in order, through @discordjs/rest with its default options
 * (its own in-process rate-limit handling and retries), no queue, no
 * batching, no shared limiter. The body is the same embed the worker posts.
 */
import { REST } from '@discordjs/rest';
import { Routes } from 'discord-api-types/v10';
import type { SourceRecords } from '@flipfix/db';
import { formatPost } from '@flipfix/discord';

export interface NaiveOptions {
  /** The source's records (the worker reads the same). */
  records: Pick<SourceRecords, 'loadPostSubjects'>;
  apiUrl: string;
  token: string;
  channelId: string;
  baseUrl: string;
  /** Log entry ids, in the order they were written. */
  recordIds: readonly number[];
  /** Stop after this many posts (the rest is extrapolated by the caller). */
  limit?: number;
  /** Stop when this much time has passed. */
  timeoutMs?: number;
}

export interface NaiveResult {
  posted: number;
  elapsedMs: number;
  /** Posts per second over the run. */
  rate: number;
}

/** Posts the records one by one; resolves when `limit` posts are done or the time is up. */
export async function runNaive(o: NaiveOptions): Promise<NaiveResult> {
  const rest = new REST({ api: o.apiUrl.replace(/\/+$/, ''), version: '10' }).setToken(o.token);
  const todo = o.recordIds.slice(0, o.limit ?? o.recordIds.length);
  const started = Date.now();
  const deadline = started + (o.timeoutMs ?? Number.POSITIVE_INFINITY);
  let posted = 0;
  for (const id of todo) {
    if (Date.now() > deadline) break;
    const [subject] = await o.records.loadPostSubjects([{ type: 'log_entry_created', entityType: 'log_entry', entityId: id }]);
    if (!subject) throw new Error(`log entry ${id} not found`);
    await rest.post(Routes.channelMessages(o.channelId), { body: formatPost(subject, { baseUrl: o.baseUrl, mode: 'bot' }) });
    posted++;
  }
  const elapsedMs = Date.now() - started;
  return { posted, elapsedMs, rate: posted / (elapsedMs / 1000) };
}
