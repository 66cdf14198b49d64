/**
 * Proves prisma/schema.prisma and the hand-written migrations agree: the
 * catalog matches what Prisma would generate (names, types, nullability,
 * indexes, keys), and every model round-trips through the generated client.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, DEFAULT_MIGRATIONS_DIR, Prisma, type TestDatabase } from '../src/index.ts';
import { baseUrl } from './helpers.ts';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase({ baseUrl });
});
afterAll(() => t?.drop());

// ------------------------------------------------------------ a small schema.prisma reader

interface FieldSpec {
  name: string;
  column: string;
  type: string;
  optional: boolean;
  list: boolean;
  attrs: string;
}
interface ModelSpec {
  name: string;
  table: string;
  fields: FieldSpec[];
  blockAttrs: string[];
}

const schemaText = readFileSync(path.join(DEFAULT_MIGRATIONS_DIR, '..', 'schema.prisma'), 'utf8');

function blocks(kind: 'model' | 'enum'): { name: string; body: string[] }[] {
  const re = new RegExp(`^${kind} (\\w+) \\{\\n([\\s\\S]*?)^\\}`, 'gm');
  return [...schemaText.matchAll(re)].map((m) => ({
    name: m[1]!,
    body: m[2]!
      .split('\n')
      .map((l) => l.replace(/\/\/.*$/, '').trim())
      .filter((l) => l !== ''),
  }));
}

const enums = new Map(blocks('enum').map((b) => [b.name, b.body]));
const modelNames = new Set(blocks('model').map((b) => b.name));
const models: ModelSpec[] = blocks('model').map(({ name, body }) => {
  const blockAttrs = body.filter((l) => l.startsWith('@@'));
  const table = /@@map\("(\w+)"\)/.exec(blockAttrs.join(' '))?.[1] ?? name;
  const fields = body
    .filter((l) => !l.startsWith('@@'))
    .map((l) => {
      const [fname, rawType, ...rest] = l.split(/\s+/);
      const attrs = rest.join(' ');
      const type = rawType!.replace(/[?[\]]/g, '');
      return {
        name: fname!,
        column: /@map\("(\w+)"\)/.exec(attrs)?.[1] ?? fname!,
        type,
        optional: rawType!.endsWith('?'),
        list: rawType!.endsWith('[]'),
        attrs,
      };
    });
  return { name, table, fields, blockAttrs };
});

function columnOf(model: ModelSpec, field: string): string {
  const f = model.fields.find((x) => x.name === field);
  if (!f) throw new Error(`${model.name}.${field} not in schema`);
  return f.column;
}

function expectedType(f: FieldSpec): string {
  if (enums.has(f.type)) return f.type;
  if (f.list) return `_${expectedType({ ...f, list: false })}`;
  if (f.attrs.includes('@db.Uuid')) return 'uuid';
  switch (f.type) {
    case 'Int':
      return 'int4';
    case 'BigInt':
      return 'int8';
    case 'String':
      return 'text';
    case 'Boolean':
      return 'bool';
    case 'Json':
      return 'jsonb';
    case 'DateTime':
      return f.attrs.includes('@db.Timestamptz') ? 'timestamptz' : 'timestamp';
    default:
      throw new Error(`unmapped type ${f.type}`);
  }
}

const listCols = (s: string) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '');

describe('schema.prisma and the migrations', () => {
  it('create exactly the enums schema.prisma declares, values in order', async () => {
    const { rows } = await t.db.pool.query<{ name: string; labels: string[] }>(
      `SELECT t.typname AS name, array_agg(e.enumlabel ORDER BY e.enumsortorder)::text[] AS labels
         FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid GROUP BY t.typname`,
    );
    expect(new Map(rows.map((r) => [r.name, r.labels]))).toEqual(enums);
  });

  it('create exactly the tables and columns of the models, with matching types and nullability', async () => {
    const { rows } = await t.db.pool.query<{ table_name: string; column_name: string; udt_name: string; is_nullable: string }>(
      `SELECT table_name, column_name, udt_name, is_nullable FROM information_schema.columns
        WHERE table_schema = 'public' AND table_name <> '_prisma_migrations'`,
    );
    const actual = rows.map((r) => `${r.table_name}.${r.column_name} ${r.udt_name} ${r.is_nullable === 'YES' ? 'null' : 'not null'}`);
    const expected = models.flatMap((m) =>
      m.fields
        .filter((f) => !modelNames.has(f.type))
        // Prisma leaves scalar lists nullable in SQL.
        .map((f) => `${m.table}.${f.column} ${expectedType(f)} ${f.optional || f.list ? 'null' : 'not null'}`),
    );
    expect(actual.sort()).toEqual(expected.sort());
  });

  it("name keys and indexes as Prisma does (pkey, key, idx, fkey)", async () => {
    const expectedIndexes: string[] = [];
    const expectedFks: string[] = [];
    for (const m of models) {
      for (const f of m.fields) {
        if (/@id\b/.test(f.attrs)) expectedIndexes.push(`${m.table}_pkey`);
        if (/@unique\b/.test(f.attrs)) expectedIndexes.push(`${m.table}_${f.column}_key`);
        const rel = /@relation\([^)]*fields: \[([^\]]+)\]/.exec(f.attrs);
        if (rel) expectedFks.push(`${m.table}_${listCols(rel[1]!).map((c) => columnOf(m, c)).join('_')}_fkey`);
      }
      for (const a of m.blockAttrs) {
        const idx = /^@@(index|unique)\(\[([^\]]+)\]/.exec(a);
        if (!idx) continue;
        const cols = listCols(idx[2]!).map((c) => columnOf(m, c));
        expectedIndexes.push(`${m.table}_${cols.join('_')}_${idx[1] === 'index' ? 'idx' : 'key'}`);
      }
    }
    const indexes = await t.db.pool.query<{ indexname: string }>(
      `SELECT indexname FROM pg_indexes WHERE schemaname = 'public' AND tablename <> '_prisma_migrations'`,
    );
    expect(indexes.rows.map((r) => r.indexname).sort()).toEqual(expectedIndexes.sort());
    const fks = await t.db.pool.query<{ conname: string }>(`SELECT conname FROM pg_constraint WHERE contype = 'f'`);
    expect(fks.rows.map((r) => r.conname).sort()).toEqual(expectedFks.sort());
  });
});

describe('every model round-trips through the generated client', () => {
  it('machines, records, photos, outbox, deliveries, settings and audit keep every field', async () => {
    const p = t.db.prisma;
    const at = new Date('2026-01-02T03:04:05.678Z');
    const machine = await p.machine.create({
      data: { name: 'Round Trip', shortName: 'RT', location: 'Lab', operationalStatus: 'broken', createdAt: at },
    });
    expect(await p.machine.findUniqueOrThrow({ where: { id: machine.id } })).toEqual({
      id: machine.id,
      name: 'Round Trip',
      shortName: 'RT',
      slug: 'round-trip',
      location: 'Lab',
      operationalStatus: 'broken',
      createdAt: at,
    });

    const reportData = {
      machineId: machine.id,
      status: 'closed',
      problemType: 'no_credits',
      priority: 'unplayable',
      description: 'Coin mech jammed ✨',
      reporterName: 'Ada',
      reporterContact: 'ada@example.org',
      claimedByName: 'Grace',
      claimedAt: at,
      createdAt: at,
    } as const;
    const report = await p.problemReport.create({ data: reportData });
    expect(await p.problemReport.findUniqueOrThrow({ where: { id: report.id } })).toMatchObject(reportData);
    expect(report.updatedAt).toBeInstanceOf(Date);

    const entryData = {
      machineId: machine.id,
      problemReportId: report.id,
      text: 'Replaced coil',
      maintainerNames: ['Ada', 'Grace Hopper'],
      createdAt: at,
    };
    const entry = await p.logEntry.create({ data: entryData });
    expect(await p.logEntry.findUniqueOrThrow({ where: { id: entry.id } })).toEqual({ id: entry.id, ...entryData });
    const bare = await p.logEntry.create({ data: { machineId: machine.id, text: 'no names' } });
    expect(bare.maintainerNames).toEqual([]);

    const requestData = { machineId: machine.id, text: 'Rubber kit', status: 'ordered', requestedByName: 'Lin', createdAt: at } as const;
    const request = await p.partRequest.create({ data: requestData });
    expect(await p.partRequest.findUniqueOrThrow({ where: { id: request.id } })).toMatchObject(requestData);

    const updateData = { partRequestId: request.id, text: 'Arrived', newStatus: 'received', postedByName: 'Lin', createdAt: at } as const;
    const update = await p.partRequestUpdate.create({ data: updateData });
    expect(await p.partRequestUpdate.findUniqueOrThrow({ where: { id: update.id } })).toEqual({ id: update.id, ...updateData });

    for (const owner of [
      { problemReportId: report.id },
      { logEntryId: entry.id },
      { partRequestId: request.id },
      { partRequestUpdateId: update.id },
    ]) {
      const photo = await p.photo.create({ data: { url: 'https://img.example/a.jpg', position: 3, createdAt: at, ...owner } });
      expect(await p.photo.findUniqueOrThrow({ where: { id: photo.id } })).toEqual({
        id: photo.id,
        url: 'https://img.example/a.jpg',
        position: 3,
        problemReportId: null,
        logEntryId: null,
        partRequestId: null,
        partRequestUpdateId: null,
        createdAt: at,
        ...owner,
      });
    }

    const eventData = {
      type: 'log_entry_created',
      entityType: 'log_entry',
      entityId: entry.id,
      actorName: 'Ada',
      payload: { machine_id: machine.id, nested: { list: [1, 'two', null] } },
      status: 'published',
      attempts: 2,
      createdAt: at,
      publishedAt: at,
      routedAt: at,
      seq: 9_007_199_254_740_993n,
    } as const;
    const event = await p.outboxEvent.create({ data: eventData });
    expect(event.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(await p.outboxEvent.findUniqueOrThrow({ where: { id: event.id } })).toEqual({ id: event.id, ...eventData });

    const deliveryData = {
      eventId: event.id,
      target: 'bot',
      targetKey: '1100000000000000001',
      action: 'edit',
      status: 'failed',
      attempts: 4,
      lastError: 'Missing Access',
      errorClass: 'permanent',
      discordChannelId: '1100000000000000001',
      discordMessageId: '1200000000000000002',
      embedIndex: 1,
      threadId: '1300000000000000003',
      payload: { embeds: [{ title: 'x' }] },
      createdAt: at,
      firstAttemptAt: at,
      deliveredAt: at,
    } as const;
    const delivery = await p.delivery.create({ data: deliveryData });
    expect(await p.delivery.findUniqueOrThrow({ where: { id: delivery.id } })).toMatchObject(deliveryData);
    await expect(
      p.delivery.create({ data: { eventId: event.id, target: 'bot', targetKey: '1100000000000000001' } }),
    ).rejects.toMatchObject({ code: 'P2002' });

    const settings = await p.settings.findUniqueOrThrow({ where: { id: 1 } });
    expect(settings).toMatchObject({ deliveryMode: 'bot', events: {}, reactions: {}, digestQuietSeconds: 300, version: 1 });
    const settingsData = {
      deliveryMode: 'both',
      channelId: '1100000000000000001',
      events: { part_request_created: { enabled: false, channelId: null } },
      threadsEnabled: true,
      reactions: { problem_report_created: ['👀'] },
      unplayableRoleId: '1400000000000000004',
      digestEnabled: true,
      digestQuietSeconds: 60,
      digestMaxSeconds: 600,
      version: 7,
    } as const;
    await p.settings.update({ where: { id: 1 }, data: settingsData });
    expect(await p.settings.findUniqueOrThrow({ where: { id: 1 } })).toMatchObject(settingsData);

    const audit = await p.settingsAudit.create({
      data: { actor: 'admin', field: 'deliveryMode', fromValue: 'bot', toValue: Prisma.JsonNull, createdAt: at },
    });
    expect(await p.settingsAudit.findUniqueOrThrow({ where: { id: audit.id } })).toEqual({
      id: audit.id,
      actor: 'admin',
      field: 'deliveryMode',
      fromValue: 'bot',
      toValue: null,
      createdAt: at,
    });
  });

  it('enforces what Prisma cannot express: one owner per photo, one settings row, a sane digest window', async () => {
    const p = t.db.prisma;
    await expect(p.photo.create({ data: { url: 'https://img.example/orphan.jpg' } })).rejects.toThrow(/photos_exactly_one_owner_check/);
    await expect(p.settings.create({ data: { id: 2 } })).rejects.toThrow(/settings_single_row_check/);
    await expect(
      p.settings.update({ where: { id: 1 }, data: { digestQuietSeconds: 900, digestMaxSeconds: 60 } }),
    ).rejects.toThrow(/settings_digest_window_check/);
  });
});
