/**
 * Switching `deliveryMode` while events stream in loses and duplicates
 * nothing: every event gets exactly the targets of the mode in force when it
 * was routed, and each target shows each event's message exactly once.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createLogEntry, createMachine, createPartRequest, type DeliveryModeName, updateSettings } from '@flipfix/db';
import { createWebhookEndpoint, withLegacyWebhooks } from '@flipfix/legacy-webhooks';
import { startStack, waitFor, type Stack } from './harness';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    sim: { rateLimits: { perChannel: null, global: null } },
    worker: { rateLimits: { defaultChannel: null, global: null }, extend: withLegacyWebhooks(async () => ({ afterPost: async () => undefined })) },
  });
});
afterAll(async () => {
  await stack?.close();
});

const EVENTS = 60;
const EVENT_EVERY_MS = 50;
const FLIP_EVERY_MS = 170;
const CYCLE: DeliveryModeName[] = ['webhooks', 'both', 'bot', 'both'];

it('flipping the mode back and forth during a stream of 60 events loses and duplicates nothing', async () => {
  const s = stack;
  const machineId = (await createMachine(s.db.prisma, { name: 'Twilight Zone', shortName: 'TZ' })).id;
  const hooks = [] as { id: string; channelId: string; types: string[] }[];
  for (const [name, types] of [
    ['Floor', ['log_entry_created']],
    ['Everything', ['log_entry_created', 'part_request_created']],
  ] as const) {
    const channel = s.sim.createChannel({ name: name.toLowerCase() });
    const hook = s.sim.createWebhook(channel.id);
    const ep = await createWebhookEndpoint(s.db, { name, url: hook.url, events: [...types] });
    hooks.push({ id: ep.id, channelId: channel.id, types: [...types] });
  }
  await updateSettings(s.db.prisma, { deliveryMode: 'webhooks' }, 'test');

  let streaming = true;
  const flips: DeliveryModeName[] = [];
  const flipper = (async () => {
    for (let i = 1; streaming; i++) {
      await new Promise((r) => setTimeout(r, FLIP_EVERY_MS));
      const mode = CYCLE[i % CYCLE.length]!;
      await updateSettings(s.db.prisma, { deliveryMode: mode }, 'flipper');
      flips.push(mode);
    }
  })();
  const created: { type: string; id: number; text: string }[] = [];
  for (let i = 0; i < EVENTS; i++) {
    const text = `stream event ${i} ⚡`;
    if (i % 3 === 2) created.push({ type: 'part_request_created', id: (await createPartRequest(s.db.prisma, { text, machineId })).id, text });
    else created.push({ type: 'log_entry_created', id: (await createLogEntry(s.db.prisma, { machineId, text })).id, text });
    await new Promise((r) => setTimeout(r, EVENT_EVERY_MS));
  }
  streaming = false;
  await flipper;
  expect(flips.length).toBeGreaterThanOrEqual(10);

  const events = await waitFor(
    async () => {
      const rows = await s.db.prisma.outboxEvent.findMany({ include: { deliveries: true } });
      if (rows.length !== EVENTS || rows.some((e) => !e.routedAt)) return undefined;
      const open = rows.some((e) => e.deliveries.some((d) => d.status === 'pending' || d.status === 'sending'));
      return open ? undefined : rows;
    },
    { timeoutMs: 30_000, what: 'every event routed and delivered' },
  );

  // The mode each event was routed under, read back from its targets; anything else is a bug.
  const seenModes = new Set<DeliveryModeName>();
  const expectedPerChannel = new Map<string, string[]>();
  const expect1 = (channelId: string, text: string) => expectedPerChannel.set(channelId, [...(expectedPerChannel.get(channelId) ?? []), text]);
  for (const c of created) {
    const event = events.find((e) => e.type === c.type && e.entityId === c.id);
    expect(event, `${c.type} #${c.id} has an outbox event`).toBeDefined();
    const bot = event!.deliveries.filter((d) => d.target === 'bot');
    const hookTargets = event!.deliveries.filter((d) => d.target === 'webhook').map((d) => d.targetKey).sort();
    const subscribed = hooks.filter((h) => h.types.includes(c.type)).map((h) => h.id).sort();
    const mode: DeliveryModeName = bot.length === 0 ? 'webhooks' : hookTargets.length === 0 ? 'bot' : 'both';
    seenModes.add(mode);
    expect(bot.length, `${c.text}: bot deliveries`).toBe(mode === 'webhooks' ? 0 : 1);
    expect(hookTargets, `${c.text}: webhook targets in ${mode}`).toEqual(mode === 'bot' ? [] : subscribed);
    expect(event!.deliveries.every((d) => d.status === 'delivered' && d.discordMessageId)).toBe(true);
    if (mode !== 'webhooks') expect1(s.sim.channelId, c.text);
    if (mode !== 'bot') for (const h of hooks.filter((x) => x.types.includes(c.type))) expect1(h.channelId, c.text);
  }
  expect([...seenModes].sort()).toEqual(['bot', 'both', 'webhooks']);

  // Each target's channel holds each of its events exactly once, and nothing else.
  for (const channelId of [s.sim.channelId, ...hooks.map((h) => h.channelId)]) {
    const texts = s.sim.messages(channelId).map((m) => {
      const description = (m.embeds[0] as { description?: string } | undefined)?.description ?? '';
      return created.find((c) => description.includes(`${c.text}`))?.text ?? `unexpected: ${description}`;
    });
    expect(texts.sort(), `messages in ${channelId}`).toEqual([...(expectedPerChannel.get(channelId) ?? [])].sort());
  }
}, 90_000);
