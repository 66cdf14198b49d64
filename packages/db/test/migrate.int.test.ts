import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_DATABASE_URL } from '@flipfix/config';
import {
  createTestDatabase,
  DEFAULT_MIGRATIONS_DIR,
  MigrationError,
  databaseNameOf,
  dropDatabase,
  migrate,
  readMigrations,
  withDatabase,
} from '../src/index.ts';
import { baseUrl } from './helpers.ts';

const server = baseUrl ?? DEFAULT_DATABASE_URL;
const created: string[] = [];
const tempDirs: string[] = [];

/** A database name nobody else uses; dropped after the file. */
function freshDatabaseUrl(): string {
  const name = `flipfix_migrate_${process.pid}_${randomBytes(4).toString('hex')}`;
  created.push(name);
  return withDatabase(server, name);
}

afterAll(async () => {
  for (const name of created) await dropDatabase(server, name);
  for (const dir of tempDirs) await rm(dir, { recursive: true, force: true });
});

async function query<R extends pg.QueryResultRow>(url: string, sql: string): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(sql)).rows;
  } finally {
    await client.end();
  }
}

async function copyOfMigrations(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'flipfix-migrations-'));
  tempDirs.push(dir);
  await cp(DEFAULT_MIGRATIONS_DIR, dir, { recursive: true });
  return dir;
}

describe('migrate', () => {
  it('creates a missing database, records migrations as Prisma does, and applies nothing the second time', async () => {
    const url = freshDatabaseUrl();
    const lines: string[] = [];
    const names = (await readMigrations()).map((m) => m.name);
    expect(names.length).toBeGreaterThan(0);

    const first = await migrate({ databaseUrl: url, log: (m) => lines.push(m) });
    expect(first.applied).toEqual(names);
    expect(lines.some((l) => l.startsWith('created database'))).toBe(true);

    const rows = await query<{
      id: string;
      checksum: string;
      finished_at: Date | null;
      migration_name: string;
      logs: string | null;
      rolled_back_at: Date | null;
      started_at: Date;
      applied_steps_count: number;
    }>(url, 'SELECT * FROM _prisma_migrations ORDER BY migration_name');
    expect(rows.map((r) => r.migration_name)).toEqual(names);
    for (const row of rows) {
      const file = await readFile(path.join(DEFAULT_MIGRATIONS_DIR, row.migration_name, 'migration.sql'));
      expect(row.checksum).toBe(createHash('sha256').update(file).digest('hex'));
      expect(row.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.finished_at!.getTime()).toBeGreaterThanOrEqual(row.started_at.getTime());
      expect(row.rolled_back_at).toBeNull();
      expect(row.logs).toBeNull();
      expect(row.applied_steps_count).toBe(1);
    }
    const columns = await query<{ column_name: string; data_type: string; character_maximum_length: number | null }>(
      url,
      `SELECT column_name, data_type, character_maximum_length FROM information_schema.columns
        WHERE table_name = '_prisma_migrations' ORDER BY ordinal_position`,
    );
    expect(columns.map((c) => `${c.column_name}:${c.data_type}:${c.character_maximum_length ?? ''}`)).toEqual([
      'id:character varying:36',
      'checksum:character varying:64',
      'finished_at:timestamp with time zone:',
      'migration_name:character varying:255',
      'logs:text:',
      'rolled_back_at:timestamp with time zone:',
      'started_at:timestamp with time zone:',
      'applied_steps_count:integer:',
    ]);

    const second = await migrate({ databaseUrl: url });
    expect(second.applied).toEqual([]);
    expect(await query(url, 'SELECT 1 FROM _prisma_migrations')).toHaveLength(names.length);
  });

  it('refuses to run when an applied migration was edited', async () => {
    const url = freshDatabaseUrl();
    const dir = await copyOfMigrations();
    await migrate({ databaseUrl: url, migrationsDir: dir });
    const first = (await readMigrations(dir))[0]!;
    await writeFile(path.join(dir, first.name, 'migration.sql'), `${first.sql}\n-- edited afterwards\n`);
    const attempt = migrate({ databaseUrl: url, migrationsDir: dir });
    await expect(attempt).rejects.toBeInstanceOf(MigrationError);
    await expect(attempt).rejects.toThrow(`Migration ${first.name} was modified after it was applied`);
  });

  it('applies a new migration on top, and rolls back one that fails without recording it', async () => {
    const url = freshDatabaseUrl();
    const dir = await copyOfMigrations();
    await migrate({ databaseUrl: url, migrationsDir: dir });
    await cp(path.join(dir, (await readMigrations(dir))[0]!.name), path.join(dir, '29990101000000_broken'), {
      recursive: true,
    });
    await writeFile(
      path.join(dir, '29990101000000_broken', 'migration.sql'),
      'CREATE TABLE "half_done" (id int);\nSELECT * FROM "no_such_table";\n',
    );
    await expect(migrate({ databaseUrl: url, migrationsDir: dir })).rejects.toThrow(
      /Migration 29990101000000_broken failed and was rolled back: relation "no_such_table" does not exist/,
    );
    expect(await query(url, `SELECT 1 FROM pg_tables WHERE tablename = 'half_done'`)).toHaveLength(0);
    expect(await query(url, `SELECT 1 FROM _prisma_migrations WHERE migration_name = '29990101000000_broken'`)).toHaveLength(0);

    await writeFile(path.join(dir, '29990101000000_broken', 'migration.sql'), 'CREATE TABLE "later" (id int);\n');
    expect((await migrate({ databaseUrl: url, migrationsDir: dir })).applied).toEqual(['29990101000000_broken']);
  });

  it('lets two processes migrate a fresh database at once: both succeed, each migration applies once', async () => {
    const url = freshDatabaseUrl();
    const [a, b] = await Promise.all([migrate({ databaseUrl: url }), migrate({ databaseUrl: url })]);
    const names = (await readMigrations()).map((m) => m.name);
    expect([...a.applied, ...b.applied].sort()).toEqual(names.sort());
    expect(a.applied.length === 0 || b.applied.length === 0).toBe(true);
    const rows = await query<{ migration_name: string }>(url, 'SELECT migration_name FROM _prisma_migrations');
    expect(rows).toHaveLength(names.length);
  });

  it('createTestDatabase hands out separate, migrated databases to concurrent callers', async () => {
    const dbs = await Promise.all([1, 2, 3].map(() => createTestDatabase({ baseUrl })));
    try {
      expect(new Set(dbs.map((d) => d.url)).size).toBe(3);
      for (const d of dbs) {
        const { rows } = await d.db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM _prisma_migrations');
        expect(rows[0]!.n).toBe((await readMigrations()).length);
      }
      await dbs[0]!.db.prisma.machine.create({ data: { name: 'Only here' } });
      expect(await dbs[1]!.db.prisma.machine.count({ where: { name: 'Only here' } })).toBe(0);
    } finally {
      await Promise.all(dbs.map((d) => d.drop()));
    }
    const left = await query(withDatabase(server, 'postgres'), `SELECT 1 FROM pg_database WHERE datname = '${databaseNameOf(dbs[0]!.url)}'`);
    expect(left).toHaveLength(0);
  });
});
