import { describe, expect, it } from 'vitest';
import { BaseEnv, EnvError, parseEnv, waitForCoreServices } from './index';
import { describeRedis, hashTaggedPrefix, QueuePrefixSchema, resolveRedis } from './redis';

const redisOf = (env: Record<string, string>) => resolveRedis(parseEnv(BaseEnv, env));

describe('resolveRedis', () => {
  it('is the local standalone Redis by default, or REDIS_URL', () => {
    expect(redisOf({})).toEqual({ kind: 'standalone', url: 'redis://127.0.0.1:6379' });
    expect(redisOf({ REDIS_URL: 'rediss://:pw@cache:6380' })).toEqual({ kind: 'standalone', url: 'rediss://:pw@cache:6380' });
  });

  it('reads a Sentinel set with its primary name', () => {
    expect(redisOf({ REDIS_SENTINELS: 's1:26379, s2:26380,[::1]:26381', REDIS_SENTINEL_NAME: 'flipfix', REDIS_PASSWORD: 'pw' })).toEqual({
      kind: 'sentinel',
      sentinels: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26380 },
        { host: '::1', port: 26381 },
      ],
      name: 'flipfix',
      password: 'pw',
    });
  });

  it('reads Cluster seed nodes', () => {
    expect(redisOf({ REDIS_CLUSTER_NODES: 'n1:7000,n2:7001' })).toEqual({
      kind: 'cluster',
      nodes: [
        { host: 'n1', port: 7000 },
        { host: 'n2', port: 7001 },
      ],
    });
  });

  it('names the variables of a bad combination', () => {
    expect(() => redisOf({ REDIS_URL: 'redis://x:6379', REDIS_CLUSTER_NODES: 'n1:7000' })).toThrow(/REDIS_URL, REDIS_CLUSTER_NODES: set only one/);
    expect(() => redisOf({ REDIS_SENTINELS: 's1:26379' })).toThrow(/REDIS_SENTINEL_NAME: is required with REDIS_SENTINELS/);
    expect(() => redisOf({ REDIS_SENTINEL_NAME: 'flipfix' })).toThrow(EnvError);
  });

  it('refuses a node list that is not host:port, naming the variable', () => {
    expect(() => parseEnv(BaseEnv, { REDIS_CLUSTER_NODES: 'n1:7000,n2' })).toThrow(/REDIS_CLUSTER_NODES: "n2" is not host:port/);
    expect(() => parseEnv(BaseEnv, { REDIS_SENTINELS: 's1:99999' })).toThrow(/REDIS_SENTINELS/);
    expect(() => parseEnv(BaseEnv, { REDIS_CLUSTER_NODES: ' , ' })).toThrow(/at least one host:port/);
  });

  it('describes a topology without its password', () => {
    expect(describeRedis(redisOf({ REDIS_URL: 'redis://:secret@cache:6380' }))).toBe('standalone cache:6380');
    expect(describeRedis(redisOf({ REDIS_SENTINELS: 's1:26379', REDIS_SENTINEL_NAME: 'm', REDIS_PASSWORD: 'secret' }))).toBe('sentinel m via s1:26379');
  });
});

describe('the key prefix', () => {
  it('is always hash-tagged, so a deployment\'s keys share one Cluster slot', () => {
    expect(hashTaggedPrefix('flipfix')).toBe('{flipfix}');
    expect(hashTaggedPrefix('{flipfix}')).toBe('{flipfix}');
    expect(QueuePrefixSchema.parse('museum-2')).toBe('{museum-2}');
    expect(QueuePrefixSchema.parse('{museum}')).toBe('{museum}');
  });

  it('refuses braces inside, spaces and colons', () => {
    for (const bad of ['a}b', '{a', 'a b', 'a:b', '{}']) expect(QueuePrefixSchema.safeParse(bad).success, bad).toBe(false);
  });
});

describe('waitForCoreServices and the topology', () => {
  it('probes the topology the environment names and says what to check', async () => {
    const env = parseEnv(BaseEnv, { REDIS_SENTINELS: 's1:26379', REDIS_SENTINEL_NAME: 'flipfix', STARTUP_ATTEMPTS: '1' });
    const probed: unknown[] = [];
    const attempt = waitForCoreServices(
      env,
      {
        postgres: async () => undefined,
        redis: async (topology) => {
          probed.push(topology);
          throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
        },
      },
      () => undefined,
    );
    await expect(attempt).rejects.toThrow(/Redis at sentinel flipfix via s1:26379 did not answer.*check REDIS_SENTINELS and REDIS_SENTINEL_NAME/);
    expect(probed).toEqual([{ kind: 'sentinel', sentinels: [{ host: 's1', port: 26379 }], name: 'flipfix' }]);
  });
});
