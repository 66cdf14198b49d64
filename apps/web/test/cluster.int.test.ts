/**
 * The web app on a real 6-node Redis Cluster: console sessions and the login
 * limit (single keys), the job dashboard (BullMQ's scripts over several keys
 * of a queue) and /health (with the invalid-request brake), all under the hash-tagged prefix, so every
 * script's keys share a slot.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidRequestBrake } from '@flipfix/engine';
import { hasRedisBinaries, type RedisClusterRig, startRedisCluster } from '@flipfix/testing';
import { call, login, startTestWeb, TEST_ADMIN_TOKEN, type TestWeb } from './helpers';

describe.skipIf(!hasRedisBinaries)('the web app on Redis Cluster', () => {
  let cluster: RedisClusterRig;
  let web: TestWeb;

  beforeAll(async () => {
    cluster = await startRedisCluster();
    web = await startTestWeb({ redis: { kind: 'cluster', nodes: cluster.nodes }, prefix: `{t-web-${randomBytes(5).toString('hex')}}` });
  }, 90_000);
  afterAll(async () => {
    await web?.close();
    await cluster?.stop();
  });

  it('keeps a console session and shows the job dashboard', async () => {
    const { cookie } = await login(web.url);
    const settings = await fetch(`${web.url}/admin/settings`, { headers: { cookie } });
    expect(settings.status).toBe(200);
    await web.queues.bot.add('deliver', { deliveryId: crypto.randomUUID(), eventId: crypto.randomUUID() }, { delay: 60_000 });
    const queues = await fetch(`${web.url}/admin/queues/api/queues`, { headers: { cookie } });
    expect(queues.status).toBe(200);
    const body = (await queues.json()) as { queues: { name: string; counts: Record<string, number> }[] };
    expect(body.queues.find((q) => q.name === 'bot-deliveries')?.counts.delayed).toBe(1);
  });

  it('answers /health with Redis ok and the brake read (its ten minute buckets in one MGET)', async () => {
    // Counted as a worker would: the buckets of the last ten minutes share the prefix's slot.
    await new InvalidRequestBrake({ redis: web.redis, prefix: web.prefix }).record(3);
    const res = await call(web.url, 'GET', '/health', undefined, { authorization: `Bearer ${TEST_ADMIN_TOKEN}` });
    expect(res.body.checks.redis.ok).toBe(true);
    expect(res.body.checks.queues.ok).toBe(true);
    expect(res.body.checks.brake).toMatchObject({ ok: true, on: false, count: 3 });
  });
});
