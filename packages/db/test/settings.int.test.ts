import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_TYPES } from '@flipfix/events';
import {
  AppError,
  createTestDatabase,
  getSettings,
  listSettingsAudit,
  SETTINGS_CHANNEL,
  type TestDatabase,
  updateSettings,
} from '../src/index.ts';
import { baseUrl, type Listener, listen } from './helpers.ts';

let t: TestDatabase;
let listener: Listener;
beforeAll(async () => {
  t = await createTestDatabase({ baseUrl });
  listener = await listen(t.url, SETTINGS_CHANNEL);
});
afterAll(async () => {
  await listener?.close();
  await t?.drop();
});

describe('settings', () => {
  it('start with every event type enabled, no overrides, bot delivery', async () => {
    const s = await getSettings(t.db.prisma);
    expect(Object.keys(s.events).sort()).toEqual([...EVENT_TYPES].sort());
    for (const type of EVENT_TYPES) expect(s.events[type]).toEqual({ enabled: true, channelId: null });
    expect(s).toMatchObject({
      deliveryMode: 'bot',
      channelId: null,
      threadsEnabled: false,
      reactions: {},
      unplayableRoleId: null,
      digest: { enabled: false, quietSeconds: 300, maxSeconds: 900 },
      version: 1,
    });
  });

  it('a patch merges, bumps the version, audits each changed leaf, and NOTIFYs the new version', async () => {
    const before = await getSettings(t.db.prisma);
    const after = await updateSettings(
      t.db.prisma,
      { events: { part_request_created: { enabled: false } }, deliveryMode: 'both', digest: { quietSeconds: 60 } },
      'admin',
    );
    expect(after.version).toBe(before.version + 1);
    expect(after.events.part_request_created).toEqual({ enabled: false, channelId: null });
    expect(after.events.log_entry_created).toEqual(before.events.log_entry_created);
    expect(after).toMatchObject({ deliveryMode: 'both', digest: { enabled: false, quietSeconds: 60, maxSeconds: 900 } });
    expect(await getSettings(t.db.prisma)).toEqual(after);
    await listener.next((p) => p === String(after.version));

    const audit = await listSettingsAudit(t.db.prisma, 10);
    expect(audit.map((a) => [a.actor, a.field, a.fromValue, a.toValue]).sort()).toEqual(
      [
        ['admin', 'deliveryMode', 'bot', 'both'],
        ['admin', 'digest.quietSeconds', 300, 60],
        ['admin', 'events.part_request_created.enabled', true, false],
      ].sort(),
    );
  });

  it('a patch that changes nothing writes nothing', async () => {
    const before = await getSettings(t.db.prisma);
    const auditBefore = (await listSettingsAudit(t.db.prisma, 1000)).length;
    const same = await updateSettings(t.db.prisma, { deliveryMode: before.deliveryMode }, 'admin');
    expect(same.version).toBe(before.version);
    expect(await listSettingsAudit(t.db.prisma, 1000)).toHaveLength(auditBefore);
  });

  it('rejects invalid patches (also a window that is invalid only after merging) and changes nothing', async () => {
    const before = await getSettings(t.db.prisma);
    await expect(updateSettings(t.db.prisma, { bogus: true } as never, 'admin')).rejects.toMatchObject({ field: 'bogus' });
    const inverted = updateSettings(t.db.prisma, { digest: { maxSeconds: 30 } }, 'admin');
    await expect(inverted).rejects.toBeInstanceOf(AppError);
    await expect(inverted).rejects.toMatchObject({ code: 'invalid', field: 'digest.maxSeconds' });
    expect(await getSettings(t.db.prisma)).toEqual(before);
  });

  it('concurrent updates are serialized: none is lost, each gets its own version', async () => {
    const before = await getSettings(t.db.prisma);
    const results = await Promise.all([
      updateSettings(t.db.prisma, { threadsEnabled: true }, 'a'),
      updateSettings(t.db.prisma, { unplayableRoleId: '12345678901234567' }, 'b'),
      updateSettings(t.db.prisma, { reactions: { problem_report_created: ['👀'] } }, 'c'),
    ]);
    expect(results.map((r) => r.version).sort()).toEqual([before.version + 1, before.version + 2, before.version + 3]);
    const final = await getSettings(t.db.prisma);
    expect(final).toMatchObject({
      threadsEnabled: true,
      unplayableRoleId: '12345678901234567',
      reactions: { problem_report_created: ['👀'] },
      version: before.version + 3,
    });
  });
});
