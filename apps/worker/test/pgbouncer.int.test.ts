/**
 * The worker with Postgres behind a real PgBouncer in transaction pooling
 * mode: LISTEN cannot work there (the session that ran it goes back to the
 * pool), so the relay must notice, say so once, and deliver on its poll.
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogEntry, createMachine } from '@flipfix/db';
import { createLogger } from '@flipfix/logger';
import { hasPgBouncer, type PgBouncerRig, startPgBouncer } from '@flipfix/testing';
import { NO_RATE_LIMITS, type Stack, startStack, waitFor } from './harness';

const POLL_MS = 500;
const LISTEN_UNAVAILABLE = 'outbox LISTEN unavailable';

describe.skipIf(!hasPgBouncer)('through PgBouncer (transaction pooling)', () => {
  let bouncer: PgBouncerRig;
  let stack: Stack;
  const logLines: string[] = [];

  beforeAll(async () => {
    bouncer = await startPgBouncer({ poolMode: 'transaction', poolSize: 10 });
    const log = createLogger({
      name: 'worker-test',
      level: 'info',
      destination: new Writable({
        write(chunk, _encoding, done) {
          logLines.push(chunk.toString());
          done();
        },
      }),
    });
    stack = await startStack({
      ...NO_RATE_LIMITS,
      databaseVia: (url) => bouncer.urlFor(url),
      worker: { ...NO_RATE_LIMITS.worker, log, relayPollMs: POLL_MS },
    });
  });
  afterAll(async () => {
    await stack?.close();
    await bouncer?.stop();
  });

  it('detects that LISTEN is unavailable and says so once', async () => {
    await waitFor(() => stack.worker.relay.wakeMode === 'poll', { what: 'the relay to fall back to polling' });
    // Several poll ticks later, still one line: the relay does not retry LISTEN every tick.
    const ticks = stack.worker.relay.published;
    await waitFor(async () => {
      const machine = await createMachine(stack.db.prisma, { name: `Tick ${Date.now()}` });
      await createLogEntry(stack.db.prisma, { machineId: machine.id, text: 'tick' });
      return stack.worker.relay.published >= ticks + 3;
    }, { what: 'three poll passes', timeoutMs: 20_000, intervalMs: POLL_MS });
    expect(logLines.filter((l) => l.includes(LISTEN_UNAVAILABLE))).toHaveLength(1);
  });

  it('delivers every event, each within about one poll interval', async () => {
    const machineId = (await createMachine(stack.db.prisma, { name: 'Attack from Mars', shortName: 'AFM' })).id;
    const latencies: number[] = [];
    for (let i = 0; i < 8; i++) {
      const written = Date.now();
      const entry = await createLogEntry(stack.db.prisma, { machineId, text: `pooled-${i}-end` });
      await waitFor(
        async () => (await stack.db.prisma.delivery.findFirst({ where: { event: { entityId: entry.id, type: 'log_entry_created' }, status: 'delivered' } })) !== null,
        { what: `entry ${i} delivered`, timeoutMs: 20_000, intervalMs: 10 },
      );
      latencies.push(Date.now() - written);
    }
    const posted = stack.sim.messages(stack.sim.channelId).filter((m) => JSON.stringify(m.embeds).includes('pooled-'));
    expect(posted).toHaveLength(8);
    // Bounded by the poll, not by the reconciler or luck: generous for a loaded machine.
    expect(Math.max(...latencies)).toBeLessThan(POLL_MS + 3000);
  });
});

describe('direct to Postgres', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack(NO_RATE_LIMITS);
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('the LISTEN probe comes back, so the relay is woken by NOTIFY', async () => {
    await waitFor(() => stack.worker.relay.wakeMode === 'listen', { what: 'LISTEN confirmed' });
  });
});
