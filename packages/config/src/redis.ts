/**
 * Which Redis the processes use, and under which key prefix: standalone (one
 * URL), a primary watched by Sentinel, or a Cluster. Parsed here once, so the
 * worker, the web app and the benchmarks all read the same three variables
 * the same way; `@flipfix/queue` turns the result into connections.
 */
import { z } from 'zod';
import { EnvError } from './errors';

/** A `host:port` pair of a Sentinel or a Cluster seed node. */
export interface RedisNode {
  host: string;
  port: number;
}

/** Where Redis is, as the connection factory in `@flipfix/queue` takes it. */
export type RedisTopology =
  | { kind: 'standalone'; url: string }
  | { kind: 'sentinel'; sentinels: RedisNode[]; name: string; password?: string }
  | { kind: 'cluster'; nodes: RedisNode[]; password?: string };

const nodeList = z
  .string()
  .transform((value, ctx): RedisNode[] => {
    const nodes: RedisNode[] = [];
    for (const item of value.split(',').map((s) => s.trim()).filter(Boolean)) {
      // `[::1]:26379` or `host:26379`: the port is after the last colon.
      const match = /^(\[[^\]]+\]|[^:\s]+):(\d{1,5})$/.exec(item);
      const port = Number(match?.[2]);
      if (!match?.[1] || !(port > 0 && port < 65536)) {
        ctx.addIssue({ code: 'custom', message: `"${item}" is not host:port` });
        return z.NEVER;
      }
      nodes.push({ host: match[1].replace(/^\[|\]$/g, ''), port });
    }
    if (nodes.length === 0) {
      ctx.addIssue({ code: 'custom', message: 'must list at least one host:port' });
      return z.NEVER;
    }
    return nodes;
  });

/**
 * The hash tag every Redis key of a deployment starts with. Redis Cluster
 * hashes only what is inside `{…}`, so every key of the deployment lands in
 * one slot: BullMQ's scripts touch several keys of a queue at once, and the
 * rate limiter's script touches the global window with a channel's, which
 * Cluster only allows within one slot. `flipfix` and `{flipfix}` both give
 * `{flipfix}`.
 */
export function hashTaggedPrefix(name: string): string {
  return /^\{[^{}]+\}$/.test(name) ? name : `{${name}}`;
}

/** The default key prefix (hash-tagged). */
export const DEFAULT_KEY_PREFIX = hashTaggedPrefix('flipfix');

/**
 * `QUEUE_PREFIX`: a name of letters, digits, `_` or `-`, with or without its
 * braces; parsed into the hash-tagged form every key starts with.
 */
export const QueuePrefixSchema = z
  .string()
  .regex(/^(\{[\w-]{1,40}\}|[\w-]{1,40})$/, 'must be letters, digits, _ or - (at most 40), optionally in {braces}')
  .transform(hashTaggedPrefix);

/** The Redis variables, spread into `BaseEnv`. */
export const RedisEnvShape = {
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must be a redis:// URL')
    .optional(),
  /** Sentinels, `host:port,…`; with REDIS_SENTINEL_NAME. */
  REDIS_SENTINELS: nodeList.optional(),
  /** The primary's name as the Sentinels know it (`sentinel monitor <name> …`). */
  REDIS_SENTINEL_NAME: z.string().regex(/^[\w.-]{1,64}$/, 'must be letters, digits, _, . or -').optional(),
  /** Cluster seed nodes, `host:port,…` (any few of its nodes; the rest are discovered). */
  REDIS_CLUSTER_NODES: nodeList.optional(),
  /** Password of the Redis nodes behind Sentinel or in the Cluster (REDIS_URL carries its own). */
  REDIS_PASSWORD: z.string().min(1).optional(),
};

/** What {@link resolveRedis} reads. */
export interface RedisEnv {
  REDIS_URL?: string | undefined;
  REDIS_SENTINELS?: RedisNode[] | undefined;
  REDIS_SENTINEL_NAME?: string | undefined;
  REDIS_CLUSTER_NODES?: RedisNode[] | undefined;
  REDIS_PASSWORD?: string | undefined;
}

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/**
 * The topology the environment names: REDIS_CLUSTER_NODES, or
 * REDIS_SENTINELS + REDIS_SENTINEL_NAME, or REDIS_URL (default: the local
 * standalone Redis). Naming two of them, or a Sentinel set without its
 * primary's name, throws an {@link EnvError} naming the variables.
 */
export function resolveRedis(env: RedisEnv): RedisTopology {
  const named = [
    env.REDIS_URL !== undefined && 'REDIS_URL',
    env.REDIS_SENTINELS !== undefined && 'REDIS_SENTINELS',
    env.REDIS_CLUSTER_NODES !== undefined && 'REDIS_CLUSTER_NODES',
  ].filter((v): v is string => v !== false);
  if (named.length > 1) {
    throw new EnvError(`Invalid environment:\n  ${named.join(', ')}: set only one of REDIS_URL, REDIS_SENTINELS, REDIS_CLUSTER_NODES`);
  }
  const password = env.REDIS_PASSWORD !== undefined ? { password: env.REDIS_PASSWORD } : {};
  if (env.REDIS_SENTINELS !== undefined) {
    if (env.REDIS_SENTINEL_NAME === undefined) {
      throw new EnvError('Invalid environment:\n  REDIS_SENTINEL_NAME: is required with REDIS_SENTINELS (the monitored primary\'s name)');
    }
    return { kind: 'sentinel', sentinels: env.REDIS_SENTINELS, name: env.REDIS_SENTINEL_NAME, ...password };
  }
  if (env.REDIS_SENTINEL_NAME !== undefined) {
    throw new EnvError('Invalid environment:\n  REDIS_SENTINEL_NAME: is only used with REDIS_SENTINELS');
  }
  if (env.REDIS_CLUSTER_NODES !== undefined) return { kind: 'cluster', nodes: env.REDIS_CLUSTER_NODES, ...password };
  return { kind: 'standalone', url: env.REDIS_URL ?? DEFAULT_REDIS_URL };
}

/** A short, secret-free description of a topology, for logs and /health. */
export function describeRedis(topology: RedisTopology): string {
  const list = (nodes: RedisNode[]) => nodes.map((n) => `${n.host}:${n.port}`).join(',');
  switch (topology.kind) {
    case 'standalone': {
      const url = new URL(topology.url);
      return `standalone ${url.hostname}:${url.port || 6379}`;
    }
    case 'sentinel':
      return `sentinel ${topology.name} via ${list(topology.sentinels)}`;
    case 'cluster':
      return `cluster via ${list(topology.nodes)}`;
  }
}
