/**
 * The pipeline on Redis behind Sentinel and on a Redis Cluster, each a real
 * set of Debian's redis-server / redis-sentinel processes on free loopback
 * ports: events in, one post each at the simulator, through the SIGKILL of
 * the Redis primary in the middle of a stream.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogEntry, createMachine } from '@flipfix/db';
import type { RedisTarget } from '@flipfix/queue';
import { hasRedisBinaries, type RedisClusterRig, type RedisSentinelSet, startRedisCluster, startRedisSentinelSet } from '@flipfix/testing';
import { NO_RATE_LIMITS, type Stack, startStack, waitFor } from './harness';

interface Topology {
  name: string;
  start(): Promise<{ redis: RedisTarget; killPrimary(prefix: string): Promise<number>; stop(): Promise<void> }>;
}

const topologies: Topology[] = [
  {
    name: 'Sentinel (primary + replica + 3 sentinels)',
    async start() {
      const set: RedisSentinelSet = await startRedisSentinelSet();
      return {
        redis: { kind: 'sentinel', sentinels: set.sentinels, name: set.name },
        killPrimary: async () => (await set.killPrimary()).failoverMs,
        stop: () => set.stop(),
      };
    },
  },
  {
    name: 'Cluster (3 primaries + 3 replicas)',
    async start() {
      const cluster: RedisClusterRig = await startRedisCluster();
      return {
        redis: { kind: 'cluster', nodes: cluster.nodes },
        // Every key of the run hashes to the prefix's slot: kill the primary serving it.
        killPrimary: async (prefix) => (await cluster.killPrimaryFor(prefix)).failoverMs,
        stop: () => cluster.stop(),
      };
    },
  },
];

/** Each text's count among the posts' embed descriptions. */
function postCounts(stack: Stack, texts: string[]): number[] {
  const descriptions = stack.sim.messages(stack.sim.channelId).flatMap((m) => m.embeds.map((e) => (e as { description?: string }).description ?? ''));
  return texts.map((text) => descriptions.filter((d) => d.includes(text)).length);
}

describe.skipIf(!hasRedisBinaries).each(topologies)('on $name', (topology) => {
  let rig: Awaited<ReturnType<Topology['start']>>;
  let stack: Stack;
  let machineId: number;

  beforeAll(async () => {
    rig = await topology.start();
    stack = await startStack({ ...NO_RATE_LIMITS, redis: rig.redis });
    machineId = (await createMachine(stack.db.prisma, { name: 'Twilight Zone', shortName: 'TZ' })).id;
  }, 90_000);
  afterAll(async () => {
    await stack?.close();
    await rig?.stop();
  });

  it('posts every event once', async () => {
    const texts = Array.from({ length: 20 }, (_, i) => `steady-${i}-end`);
    for (const text of texts) await createLogEntry(stack.db.prisma, { machineId, text });
    await waitFor(() => postCounts(stack, texts).every((n) => n >= 1), { what: 'every entry posted', timeoutMs: 30_000 });
    expect(postCounts(stack, texts)).toEqual(texts.map(() => 1));
  });

  it('loses and doubles nothing when the Redis primary is SIGKILLed mid-stream', async () => {
    const texts = Array.from({ length: 40 }, (_, i) => `failover-${i}-end`);
    for (const text of texts.slice(0, 20)) await createLogEntry(stack.db.prisma, { machineId, text });
    await waitFor(() => postCounts(stack, texts).filter((n) => n > 0).length >= 5, { what: 'first posts', timeoutMs: 30_000 });
    const failover = rig.killPrimary(stack.prefix);
    // The writers do not wait for Redis: events keep arriving during the failover.
    for (const text of texts.slice(20)) await createLogEntry(stack.db.prisma, { machineId, text });
    const failoverMs = await failover;
    expect(failoverMs).toBeLessThan(20_000);
    await waitFor(() => postCounts(stack, texts).every((n) => n >= 1), { what: 'every entry posted after the failover', timeoutMs: 60_000 });
    expect(postCounts(stack, texts)).toEqual(texts.map(() => 1));
    await waitFor(async () => (await stack.db.prisma.delivery.count({ where: { status: { not: 'delivered' } } })) === 0, {
      what: 'every ledger row delivered',
      timeoutMs: 30_000,
    });
  }, 120_000);
});
