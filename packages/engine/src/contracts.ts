/**
 * The contracts between the worker (apps/worker) and its extensions (the
 * rich bot features, the legacy webhook path): what the worker hands an
 * extension, and the hooks an extension hands back. They live here so both
 * sides import one definition instead of each redeclaring its own slice.
 */
import type { Worker, WorkerOptions } from 'bullmq';
import type { Db, NotifySettings, OutboxEvent, SourceRecords } from '@flipfix/db';
import type { EventType, PostSubject } from '@flipfix/events';
import type { Logger } from '@flipfix/logger';
import type { RedisConnection, RetryPolicy } from '@flipfix/queue';
import type { InvalidRequestBrake } from './brake';

/** What Discord said about a rate-limit bucket (from `X-RateLimit-*` headers). */
export interface ObservedLimit {
  limit: number;
  remaining: number;
  resetAfterMs: number;
}

/** The worker's shared rate limiter (Redis), as every path uses it. */
export interface RateLimiter {
  /** 0 when a request to `scope` may go now, else the milliseconds to wait. */
  reserve(scope: string): Promise<number>;
  /** Blocks `scope` (or every scope: `global`) for everyone. */
  block(scope: string, retryAfterMs: number): Promise<void>;
  /** Teaches the limiter a bucket's real limit. */
  observe(scope: string, observed: ObservedLimit): Promise<void>;
}

/** The worker's metrics, as the paths report to them. */
export interface DeliveryMetrics {
  observeDelivered(target: 'bot' | 'webhook', eventCreatedAt: Date, callMs: number): void;
  deliveryOutcome: { inc(labels: { target: string; outcome: string }, value?: number): void };
  discord429: { inc(): void };
  rateLimitWaits: { inc(): void };
}

/** The options of the worker an extension may read. */
export interface WorkerContextOptions {
  baseUrl: string;
  discord: { token: string; apiUrl: string; channelId: string; timeoutMs?: number | undefined };
  lockDurationMs?: number | undefined;
  stalledIntervalMs?: number | undefined;
}

/** What the worker hands its extensions (built once, shared by every processor). */
export interface WorkerContext {
  db: Db;
  /** The source's records: every post, edit, thread parent, digest and webhook post is built from them. */
  records: SourceRecords;
  /** Standalone, Sentinel or Cluster: keys go under the hash-tagged `prefix`. */
  redis: RedisConnection;
  settings: { readonly current: NotifySettings };
  limiter: RateLimiter;
  metrics: DeliveryMetrics;
  log: Logger;
  /** BullMQ and Redis key prefix (hash-tagged, `{flipfix}`, so a Cluster keeps every key in one slot). */
  prefix: string;
  retry: RetryPolicy;
  options: WorkerContextOptions;
  /** The invalid-request brake: while it is on, nothing is sent. */
  brake: Pick<InvalidRequestBrake, 'state'>;
  /** BullMQ options every queue consumer of this process uses (connection, prefix, locks); add `concurrency`. */
  queueWorkerOptions: WorkerOptions;
  /** Counts a Discord client's invalid answers (401/403/429) towards the brake; returns the unsubscribe. */
  watchInvalidRequests(rest: import('@discordjs/rest').REST): () => void;
}

/** What a post-delivery hook receives. */
export interface AfterPostContext {
  deliveryId: string;
  eventType: EventType;
  subject: PostSubject;
  channelId: string;
  messageId: string;
}

/** A bot post planned by the router, as the digest hook sees it. */
export interface PlannedPost {
  targetKey: string;
}

/** The hooks an extension gives the worker; every one is optional. */
export interface WorkerExtension {
  /** Extra work after a post succeeded (threads, reactions); a failure there never undoes the post. */
  afterPost?: (post: AfterPostContext) => Promise<void>;
  /** Where to post instead of the planned channel (a thread). */
  resolveChannel?: (subject: PostSubject, channelId: string) => Promise<string>;
  /** Enabled webhook endpoints subscribed to an event type (the legacy path's targets). */
  webhookEndpointsFor?: (type: EventType) => Promise<string[]>;
  /** The digest key to hold a bot post under (a `held` ledger row), or null to send it now. */
  holdForDigest?: (event: OutboxEvent, target: PlannedPost) => Promise<string | null>;
  /** Extra BullMQ workers, closed with the rest. */
  workers?: Worker[];
  close?: () => Promise<void>;
}

/** An extension: called once with the worker's context. */
export type ExtendWorker = (ctx: WorkerContext) => WorkerExtension | Promise<WorkerExtension>;
