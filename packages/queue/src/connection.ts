/**
 * The one Redis connection factory: standalone, Sentinel or Cluster, from the
 * topology `@flipfix/config` parsed. Everything that talks to Redis (BullMQ
 * queues and workers, the rate limiter, sessions, digests, health) gets its
 * connection here, so a topology is supported everywhere or nowhere.
 */
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { RedisTopology } from '@flipfix/config';

/** A connection of any topology; ioredis gives both the same command API. */
export type RedisConnection = Redis | Cluster;

/** A topology, or a `redis://` URL for a standalone Redis. */
export type RedisTarget = RedisTopology | string;

/** Normalises a {@link RedisTarget}. */
export function toTopology(target: RedisTarget): RedisTopology {
  return typeof target === 'string' ? { kind: 'standalone', url: target } : target;
}

/**
 * Opens a connection. Workers need `maxRetriesPerRequest: null` (BullMQ's
 * blocking commands, and a failover must stall a command rather than fail
 * it); producers fail fast instead of queueing commands forever.
 */
export function createRedis(target: RedisTarget, role: 'worker' | 'producer' = 'producer', extra: RedisOptions = {}): RedisConnection {
  const topology = toTopology(target);
  const common: RedisOptions = {
    maxRetriesPerRequest: role === 'worker' ? null : 3,
    enableReadyCheck: true,
    lazyConnect: false,
    ...extra,
  };
  switch (topology.kind) {
    case 'standalone':
      return new Redis(topology.url, common);
    case 'sentinel':
      return new Redis({
        ...common,
        sentinels: topology.sentinels,
        name: topology.name,
        ...(topology.password !== undefined ? { password: topology.password } : {}),
        // Reconnects as soon as a Sentinel announces a new primary, instead of
        // on the old one's connection error.
        failoverDetector: true,
        // A primary demoted while we were connected answers writes with
        // READONLY: reconnect (asking the Sentinels again) and resend.
        reconnectOnError: (err) => (err.message.startsWith('READONLY') ? 2 : false),
      });
    case 'cluster':
      return new Cluster(topology.nodes, {
        redisOptions: { ...common, ...(topology.password !== undefined ? { password: topology.password } : {}) },
        enableReadyCheck: true,
        // A failover takes the cluster down for its slots until a replica is
        // promoted (cluster-node-timeout plus an election, a few seconds):
        // keep retrying for about 20 s rather than fail the command.
        retryDelayOnClusterDown: 300,
        retryDelayOnFailover: 300,
        retryDelayOnTryAgain: 300,
        maxRedirections: 64,
        slotsRefreshTimeout: 2000,
      });
  }
}

/**
 * Resolves once Redis answers PING (on a Cluster, once the cluster is ready);
 * rejects with the client's error otherwise. One connection attempt, no
 * reconnects, no error events left behind: for start-up checks.
 */
export async function probeRedis(target: RedisTarget, timeoutMs = 3000): Promise<void> {
  const topology = toTopology(target);
  const once: RedisOptions = { lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null };
  const password = topology.kind !== 'standalone' && topology.password !== undefined ? { password: topology.password } : {};
  const client: RedisConnection =
    topology.kind === 'standalone'
      ? new Redis(topology.url, once)
      : topology.kind === 'sentinel'
        ? new Redis({ ...once, ...password, sentinels: topology.sentinels, name: topology.name, sentinelRetryStrategy: () => null })
        : new Cluster(topology.nodes, {
            lazyConnect: true,
            enableOfflineQueue: false,
            clusterRetryStrategy: () => null,
            redisOptions: { connectTimeout: timeoutMs, ...password },
          });
  // Without retries, connect() rejects with a bare "Connection is closed."; the cause (ECONNREFUSED,
  // ENOTFOUND, WRONGPASS) arrives as an 'error' event just before, so that is what is thrown.
  let cause: unknown = null;
  client.on('error', (err: unknown) => {
    cause ??= err;
  });
  try {
    await client.connect();
    await client.ping();
  } catch (err) {
    throw cause ?? err;
  } finally {
    client.disconnect();
  }
}

/**
 * Deletes every Redis key under `prefix:` (queues, rate-limit windows,
 * sessions of one deployment or one test run), on every primary of a
 * Cluster. Returns how many it deleted.
 */
export async function deletePrefix(target: RedisTarget, prefix: string): Promise<number> {
  const connection = createRedis(target, 'producer');
  let deleted = 0;
  try {
    const nodes = connection instanceof Cluster ? await primariesOf(connection) : [connection];
    for (const node of nodes) {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', `${escapeGlob(prefix)}:*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length === 0) continue;
        // On a Cluster a DEL of several keys must stay within one slot: one DEL per key there.
        deleted +=
          connection instanceof Cluster
            ? (await Promise.all(keys.map((key) => connection.del(key)))).reduce((a, b) => a + b, 0)
            : await connection.del(...keys);
      } while (cursor !== '0');
    }
  } finally {
    await connection.quit().catch(() => undefined);
  }
  return deleted;
}

async function primariesOf(cluster: Cluster): Promise<Redis[]> {
  if (cluster.status !== 'ready') await new Promise<void>((resolve, reject) => {
    cluster.once('ready', resolve);
    cluster.once('error', reject);
  });
  return cluster.nodes('master');
}

/** SCAN MATCH is a glob: `[`, `]`, `*`, `?` and `\` in a prefix must match literally. */
function escapeGlob(text: string): string {
  return text.replace(/[[\]*?\\]/g, (c) => `\\${c}`);
}
