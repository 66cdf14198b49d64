import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '@flipfix/discord-sim';
import { createDiscordRest } from '@flipfix/discord';
import { DEFAULT_BRAKE_THRESHOLD, InvalidRequestBrake } from '@flipfix/engine';
import { call, startTestWeb, type TestWeb } from './helpers';

let sim: Simulator;
let web: TestWeb;

beforeAll(async () => {
  sim = await startSimulator({ port: 0 });
  web = await startTestWeb({
    discordRest: createDiscordRest({ token: sim.token, apiUrl: sim.apiUrl, timeoutMs: 3000 }),
    discordToken: sim.token,
    config: { defaultChannelId: sim.channelId, discordCacheMs: 0 },
  });
});
afterAll(async () => {
  await web?.close();
  await sim?.close();
});

const health = () => call(web.url, 'GET', '/health');

describe('/health with Discord', () => {
  it('is 200 when the token and the channel are fine', async () => {
    const res = await health();
    expect(res.status).toBe(200);
    expect(res.body.checks.discord).toMatchObject({
      token: { ok: true, botUser: 'Flipfix' },
      channel: { ok: true, channelId: sim.channelId },
      recentFailures: { ok: true, items: [] },
    });
  });

  it('turns 503 with a clear reason when the token is revoked, and recovers', async () => {
    sim.injectFaults({ revokeToken: true });
    const down = await health();
    expect(down.status).toBe(503);
    expect(down.body.status).toBe('down');
    expect(down.body.reasons.join('\n')).toMatch(/Discord rejects the bot token/);
    expect(JSON.stringify(down.body)).not.toContain(sim.token);
    sim.injectFaults({ revokeToken: false });
    expect((await health()).status).toBe(200);
  });

  it('turns 503 when the bot loses access to the channel, and recovers', async () => {
    sim.createChannel({ id: sim.channelId, permissions: { view: false } });
    const down = await health();
    expect(down.status).toBe(503);
    expect(down.body.reasons.join('\n')).toMatch(new RegExp(`default channel ${sim.channelId}: the bot cannot see channel ${sim.channelId} \\(50001 Missing Access\\)`));
    sim.createChannel({ id: sim.channelId, permissions: { view: true } });
    expect((await health()).status).toBe(200);
  });

  it('reports a recent permanent failure until a later post to that channel succeeds', async () => {
    const machine = await web.db.prisma.machine.create({ data: { name: 'Health Machine' } });
    const report = await web.db.prisma.problemReport.create({ data: { machineId: machine.id, description: 'x' } });
    const event = await web.db.prisma.outboxEvent.findFirstOrThrow({ where: { entityType: 'problem_report', entityId: report.id } });
    // A channel configured for one event type, not the default channel.
    const channelId = '1100000000000000777';
    const reason = `the bot lacks Send Messages / Embed Links in channel ${channelId} (50013)`;
    await web.db.prisma.delivery.create({
      data: { eventId: event.id, target: 'bot', targetKey: channelId, status: 'failed', lastError: reason, errorClass: 'permanent:permission' },
    });
    // Delivery still works: degraded, 200, with the reason.
    const degraded = await health();
    expect(degraded.status).toBe(200);
    expect(degraded.body.status).toBe('degraded');
    expect(degraded.body.reasons).toContain(`1 permanent delivery failure in the last 15 minutes; latest: ${reason}`);
    const page = await (await fetch(`${web.url}/admin/health`, { redirect: 'manual' })).status;
    expect(page).toBe(303);

    const later = await web.db.prisma.outboxEvent.create({ data: { type: 'log_entry_created', entityType: 'log_entry', entityId: 1 } });
    await web.db.prisma.delivery.create({
      data: { eventId: later.id, target: 'bot', targetKey: channelId, status: 'delivered', deliveredAt: new Date(Date.now() + 1000) },
    });
    expect((await health()).body.status).toBe('ok');
  });

  it('posts refused in the default channel make it unreachable: down (503)', async () => {
    const event = await web.db.prisma.outboxEvent.create({ data: { type: 'log_entry_created', entityType: 'log_entry', entityId: 2 } });
    const reason = `the bot lacks Send Messages / Embed Links in channel ${sim.channelId} (50013)`;
    const row = await web.db.prisma.delivery.create({
      data: { eventId: event.id, target: 'bot', targetKey: sim.channelId, status: 'failed', lastError: reason, errorClass: 'permanent:permission' },
    });
    const down = await health();
    expect(down.status).toBe(503);
    expect(down.body.reasons).toContain(`default channel ${sim.channelId}: ${reason}`);
    await web.db.prisma.delivery.delete({ where: { id: row.id } });
    expect((await health()).status).toBe(200);
  });

  it('one failing webhook endpoint makes it degraded (200), never down', async () => {
    const machine = await web.db.prisma.machine.create({ data: { name: 'Webhook Health Machine' } });
    const report = await web.db.prisma.problemReport.create({ data: { machineId: machine.id, description: 'y' } });
    const event = await web.db.prisma.outboxEvent.findFirstOrThrow({ where: { entityType: 'problem_report', entityId: report.id } });
    const reason = 'unknown webhook 1234 (10015): it was deleted';
    await web.db.prisma.delivery.create({
      data: { eventId: event.id, target: 'webhook', targetKey: 'endpoint-1', status: 'failed', lastError: reason, errorClass: 'permanent:webhook' },
    });
    const res = await health();
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'degraded', checks: { postgres: { ok: true }, redis: { ok: true }, discord: { token: { ok: true }, channel: { ok: true } } } });
    expect(res.body.reasons.join('\n')).toContain(reason);
  });

  it('turns 503 while the invalid-request brake is on, with the count', async () => {
    const brake = new InvalidRequestBrake({ redis: web.redis, prefix: web.prefix });
    await brake.record(DEFAULT_BRAKE_THRESHOLD);
    try {
      const down = await health();
      expect(down.status).toBe(503);
      // The revoked-token test above added its own 401s to the count.
      expect(down.body.checks.brake).toMatchObject({ ok: false, on: true, threshold: DEFAULT_BRAKE_THRESHOLD });
      expect(down.body.checks.brake.count).toBeGreaterThanOrEqual(DEFAULT_BRAKE_THRESHOLD);
      expect(down.body.reasons.join('\n')).toMatch(/invalid-request brake is on: \d+ answers of 401\/403\/429/);
    } finally {
      await brake.record(-DEFAULT_BRAKE_THRESHOLD);
    }
    expect((await health()).body.checks.brake).toMatchObject({ ok: true, on: false });
  });
});
