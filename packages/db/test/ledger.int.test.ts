/**
 * The ledger's state machine: every allowed transition moves a row from each
 * of its start states to its end state, and every other start state is refused
 * (the row is left exactly as it was).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, factories, LEDGER_STATUSES, type LedgerStatus, ledger, nonceKeyOf, TRANSITIONS, type TestDatabase, type TransitionName } from '../src/index.ts';
import { baseUrl } from './helpers.ts';

let t: TestDatabase;
let eventId: string;
let n = 0;
beforeAll(async () => {
  t = await createTestDatabase({ baseUrl });
  await factories.logEntry(t.db);
  eventId = (await t.db.prisma.outboxEvent.findFirstOrThrow()).id;
});
afterAll(() => t?.drop());

/** A fresh row in `status` (written directly: this is the fixture, not a transition). */
async function rowIn(status: LedgerStatus, options: { claimed?: boolean } = {}): Promise<string> {
  const row = await t.db.prisma.delivery.create({ data: { eventId, target: 'bot', targetKey: `key-${n++}`, action: 'post', status } });
  if (options.claimed) await t.db.prisma.delivery.update({ where: { id: row.id }, data: { batchId: row.id } });
  return row.id;
}

const run: Record<TransitionName, (id: string) => Promise<string[]>> = {
  claim: (id) => ledger.claim(t.db.pool, [id]),
  resend: (id) => ledger.resend(t.db.pool, [id]),
  delivered: (id) => ledger.delivered(t.db.pool, [{ id, channelId: '1', messageId: '2', embedIndex: 0, batchId: null, payload: { content: 'x' } }]),
  failed: (id) => ledger.failed(t.db.pool, [id], 'Discord rejects the bot token (401)', 'permanent:token'),
  skipped: (id) => ledger.skipped(t.db.pool, [id], 'the record no longer exists'),
  retryLater: (id) => ledger.retryLater(t.db.pool, [id], { keepClaim: false, reason: 'timed out', errorClass: 'transient' }),
  release: (id) => ledger.release(t.db.pool, [id]),
  redeliver: (id) => ledger.redeliver(t.db.pool, id, 'redelivery requested by test'),
  redeliverForced: (id) => ledger.redeliver(t.db.pool, id, 'redelivery requested by test', { force: true }),
};

describe('every transition', () => {
  for (const [name, spec] of Object.entries(TRANSITIONS) as [TransitionName, (typeof TRANSITIONS)[TransitionName]][]) {
    for (const from of LEDGER_STATUSES) {
      const allowed = (spec.from as readonly string[]).includes(from);
      it(`${name}: ${from} → ${allowed ? spec.to : 'refused'}`, async () => {
        // `resend` moves claimed rows only: its fixture is claimed.
        const id = await rowIn(from, { claimed: name === 'resend' });
        const before = await t.db.prisma.delivery.findUniqueOrThrow({ where: { id } });
        const movedIds = await run[name](id);
        const after = await t.db.prisma.delivery.findUniqueOrThrow({ where: { id } });
        if (allowed) {
          expect(movedIds).toEqual([id]);
          expect(after.status).toBe(spec.to);
        } else {
          expect(movedIds).toEqual([]);
          expect(after).toEqual(before);
        }
      });
    }
  }
});

it('a row is claimed once: a second claim gets nothing', async () => {
  const id = await rowIn('pending');
  expect(await ledger.claim(t.db.pool, [id])).toEqual([id]);
  expect(await ledger.claim(t.db.pool, [id])).toEqual([]);
  const row = await t.db.prisma.delivery.findUniqueOrThrow({ where: { id } });
  expect(row).toMatchObject({ status: 'sending', batchId: id, attempts: 1 });
});

it('resend needs a claim: an unclaimed pending row is refused', async () => {
  const id = await rowIn('pending');
  expect(await ledger.resend(t.db.pool, [id])).toEqual([]);
});

it('a forced redelivery of a delivered post starts a new send generation, so its nonce changes', async () => {
  const id = await rowIn('sending');
  await ledger.delivered(t.db.pool, [{ id, channelId: '1', messageId: '2', embedIndex: 0, batchId: null, payload: {} }]);
  const first = await t.db.prisma.delivery.findUniqueOrThrow({ where: { id } });
  expect(await ledger.redeliver(t.db.pool, id, 'again')).toEqual([]);
  expect(await ledger.redeliver(t.db.pool, id, 'again', { force: true })).toEqual([id]);
  const second = await t.db.prisma.delivery.findUniqueOrThrow({ where: { id } });
  expect(second.sendGeneration).toBe(first.sendGeneration + 1);
  expect(nonceKeyOf(second)).not.toBe(nonceKeyOf(first));
  // A failed row redelivered keeps its generation: its nonce made no message.
  const failed = await rowIn('failed');
  await ledger.redeliver(t.db.pool, failed, 'again');
  expect((await t.db.prisma.delivery.findUniqueOrThrow({ where: { id: failed } })).sendGeneration).toBe(0);
});
