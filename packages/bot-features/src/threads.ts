/**
 * Threads: one per problem report post and per part request post (setting
 * `threadsEnabled`). Log entries linked to a report, and updates on a part
 * request, are posted into that record's thread. The thread id is kept in the
 * ledger (`deliveries.thread_id` of the record's post).
 *
 * A thread started from a message has the message's id on Discord, so a
 * second start (160004, e.g. after a crash between starting and recording)
 * still yields the right id. An archived thread is unarchived before posting;
 * a deleted one (10003) sends the post to the channel instead.
 */
import { DiscordAPIError, type REST } from '@discordjs/rest';
import { ThreadAutoArchiveDuration } from 'discord-api-types/v10';
import type { NotifySettings, PrismaClient, SourceRecords } from '@flipfix/db';
import { startThread, threadName } from '@flipfix/discord';
import type { EventType, PostSubject } from '@flipfix/events';
import type { Logger } from '@flipfix/logger';
import { discordCode, threadState, unarchiveThread, withRateLimitWait } from './discord-calls';

/** Threads are started with the longest auto-archive Discord allows: a week. */
export const THREAD_AUTO_ARCHIVE = ThreadAutoArchiveDuration.OneWeek;

/** Event types whose post gets a thread. */
export const THREADED_EVENTS = new Set<EventType>(['problem_report_created', 'part_request_created']);

type ThreadParent = { entity: 'problem_report'; id: number } | { entity: 'part_request'; id: number };

export interface ThreadsOptions {
  prisma: PrismaClient;
  rest: REST;
  baseUrl: string;
  /** The source's records (the thread parent's post is rebuilt from them). */
  records: Pick<SourceRecords, 'loadPostSubjects'>;
  settings: () => NotifySettings;
  log: Logger;
}

/** Thread handling for the worker's `afterPost` and `resolveChannel` hooks. */
export class Threads {
  readonly #o: ThreadsOptions;

  constructor(options: ThreadsOptions) {
    this.#o = options;
  }

  /** After a post: starts its thread when threads are on and the record is a thread parent. */
  async afterPost(p: { deliveryId: string; eventType: EventType; subject: PostSubject; channelId: string; messageId: string }): Promise<void> {
    if (!this.#o.settings().threadsEnabled || !THREADED_EVENTS.has(p.eventType)) return;
    await this.#start(p.deliveryId, p.channelId, p.messageId, p.subject);
  }

  /**
   * Where to post `subject`: its parent's thread when threads are on and the
   * parent's post is in the same channel this post was routed to (a channel
   * chosen per event type in the settings wins over the thread), else `channelId`.
   */
  async resolveChannel(subject: PostSubject, channelId: string): Promise<string> {
    if (!this.#o.settings().threadsEnabled) return channelId;
    const parent = await this.#parentOf(subject);
    if (parent === null) return channelId;
    const original = await this.#originalPost(parent);
    if (original === null || original.discordChannelId !== channelId || original.discordMessageId === null) return channelId;

    let threadId = original.threadId;
    if (threadId === null) {
      // The parent was posted before threads were turned on, or its thread start failed: start it now.
      const [parentSubject] = await this.#o.records.loadPostSubjects([
        { type: parent.entity === 'problem_report' ? 'problem_report_created' : 'part_request_created', entityType: parent.entity, entityId: parent.id },
      ]);
      if (!parentSubject) return channelId;
      threadId = await this.#start(original.id, channelId, original.discordMessageId, parentSubject).catch((err) => {
        this.#o.log.warn({ err, deliveryId: original.id }, 'could not start thread; posting in the channel');
        return null;
      });
      if (threadId === null) return channelId;
    }

    const state = await threadState(this.#o.rest, threadId);
    if (state === 'gone') {
      this.#o.log.info({ threadId, channelId }, 'thread deleted; posting in the channel');
      return channelId;
    }
    if (state === 'archived') {
      // Discord unarchives a thread a bot posts into when it may; unarchiving first also covers when it does not.
      await unarchiveThread(this.#o.rest, threadId).catch((err) => this.#o.log.warn({ err, threadId }, 'could not unarchive thread'));
    }
    return threadId;
  }

  async #start(deliveryId: string, channelId: string, messageId: string, subject: PostSubject): Promise<string> {
    let threadId: string;
    try {
      const thread = await withRateLimitWait(() =>
        startThread(this.#o.rest, channelId, messageId, { name: threadName(subject), autoArchiveDuration: THREAD_AUTO_ARCHIVE }),
      );
      threadId = thread.id;
    } catch (err) {
      // 160004: this message already has a thread, whose id is the message's.
      if (discordCode(err) !== 160004 && !(err instanceof DiscordAPIError && err.code === 160004)) throw err;
      threadId = messageId;
    }
    await this.#o.prisma.delivery.update({ where: { id: deliveryId }, data: { threadId } });
    return threadId;
  }

  async #parentOf(subject: PostSubject): Promise<ThreadParent | null> {
    if (subject.kind === 'part_request_update') return { entity: 'part_request', id: subject.partRequestId };
    if (subject.kind !== 'log_entry') return null;
    const entry = await this.#o.prisma.logEntry.findUnique({ where: { id: subject.id }, select: { problemReportId: true } });
    return entry?.problemReportId == null ? null : { entity: 'problem_report', id: entry.problemReportId };
  }

  /** The record's own delivered bot post (not one that went out in a digest). */
  #originalPost(parent: ThreadParent) {
    return this.#o.prisma.delivery.findFirst({
      where: {
        target: 'bot',
        action: 'post',
        status: 'delivered',
        digestKey: null,
        discordMessageId: { not: null },
        event: { type: parent.entity === 'problem_report' ? 'problem_report_created' : 'part_request_created', entityId: parent.id },
      },
      orderBy: { createdAt: 'asc' },
    });
  }
}
