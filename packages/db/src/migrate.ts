/**
 * A migration runner that speaks Prisma's format: it applies
 * prisma/migrations/<name>/migration.sql in name order and records each in
 * `_prisma_migrations` exactly as `prisma migrate deploy` does, so either tool
 * can take over from the other. It exists because the app must migrate itself
 * at start where Prisma's native schema engine is unavailable.
 */
import { createHash, randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

/** prisma/migrations in this repository. */
export const DEFAULT_MIGRATIONS_DIR = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  '..',
  'prisma',
  'migrations',
);

/**
 * The advisory lock key `prisma migrate deploy` takes, so this runner and
 * Prisma's CLI also exclude each other.
 */
export const MIGRATION_LOCK_KEY = 72707369;

/** The DDL Prisma's schema engine uses for its bookkeeping table (Postgres). */
const MIGRATIONS_TABLE_DDL = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

/** One migration directory. */
export interface MigrationFile {
  name: string;
  sql: string;
  /** sha256 hex of migration.sql, as Prisma computes it. */
  checksum: string;
}

export interface MigrateOptions {
  databaseUrl: string;
  /**
   * Defaults to {@link DEFAULT_MIGRATIONS_DIR}. Several directories form one
   * set, applied in name order (a source's own migrations beside ours).
   */
  migrationsDir?: string | readonly string[] | undefined;
  /**
   * Postgres schema that receives our objects and the `_prisma_migrations`
   * ledger (created if missing). Default: the connection's (public).
   */
  schema?: string | undefined;
  /** Progress lines ("applied 20251122000000_init"). */
  log?: ((msg: string) => void) | undefined;
}

export interface MigrateResult {
  /** Names of the migrations this call applied, in order (empty when up to date). */
  applied: string[];
}

/** Migrations cannot be applied; the message says which one and why. */
export class MigrationError extends Error {
  override name = 'MigrationError';
  readonly migration: string | undefined;
  constructor(message: string, migration?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.migration = migration;
  }
}

/** sha256 hex of a migration script. */
export function checksumOf(sql: string): string {
  return createHash('sha256').update(sql).digest('hex');
}

/** The migrations in `dir` (or in all of `dirs`, as one set), sorted by name (Prisma's order). */
export async function readMigrations(dir: string | readonly string[] = DEFAULT_MIGRATIONS_DIR): Promise<MigrationFile[]> {
  if (typeof dir !== 'string') {
    const all = (await Promise.all(dir.map((d) => readMigrations(d)))).flat();
    const names = new Set<string>();
    for (const m of all) {
      if (names.has(m.name)) throw new MigrationError(`Migration ${m.name} exists in more than one migrations directory`, m.name);
      names.add(m.name);
    }
    return all.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
  const entries = await readdir(dir, { withFileTypes: true });
  const names = entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  const migrations: MigrationFile[] = [];
  for (const name of names) {
    let sql: string;
    try {
      sql = await readFile(path.join(dir, name, 'migration.sql'), 'utf8');
    } catch {
      continue;
    }
    migrations.push({ name, sql, checksum: checksumOf(sql) });
  }
  return migrations;
}

/** One checksum for a whole migration set: changes when any migration is added, removed or edited. */
export function migrationSetChecksum(migrations: readonly MigrationFile[]): string {
  const hash = createHash('sha256');
  for (const m of migrations) hash.update(`${m.name}\0${m.checksum}\n`);
  return hash.digest('hex');
}

/** Quotes a Postgres identifier. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** The database name in a postgresql:// URL. */
export function databaseNameOf(databaseUrl: string): string {
  const name = decodeURIComponent(new URL(databaseUrl).pathname.replace(/^\//, ''));
  if (name === '') throw new MigrationError('DATABASE_URL names no database');
  return name;
}

/** The same server, another database (e.g. `postgres` for CREATE DATABASE). */
export function withDatabase(databaseUrl: string, database: string): string {
  const url = new URL(databaseUrl);
  url.pathname = `/${encodeURIComponent(database)}`;
  return url.toString();
}

function pgCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}

/**
 * Creates the database named in `databaseUrl` unless it exists, connecting to
 * the server's `postgres` database. Safe to race: a concurrent creator wins
 * and this returns false.
 */
export async function ensureDatabase(databaseUrl: string): Promise<boolean> {
  const name = databaseNameOf(databaseUrl);
  const admin = new pg.Client({ connectionString: withDatabase(databaseUrl, 'postgres') });
  await admin.connect();
  try {
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (exists.rowCount !== 0) return false;
    try {
      await admin.query(`CREATE DATABASE ${quoteIdent(name)}`);
      return true;
    } catch (err) {
      // duplicate_database, or the catalog's unique index when two creators race.
      if (pgCode(err) === '42P04' || pgCode(err) === '23505') return false;
      throw err;
    }
  } finally {
    await admin.end();
  }
}

async function connect(databaseUrl: string, log: (msg: string) => void): Promise<pg.Client> {
  const attempt = async () => {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    return client;
  };
  try {
    return await attempt();
  } catch (err) {
    if (pgCode(err) !== '3D000') throw err; // anything but "database does not exist"
  }
  if (await ensureDatabase(databaseUrl)) log(`created database ${databaseNameOf(databaseUrl)}`);
  return attempt();
}

interface AppliedRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
}

/** Prisma accepts a script whose only difference is CRLF vs LF line endings. */
function sameScript(recorded: string, file: MigrationFile): boolean {
  return recorded === file.checksum || recorded === checksumOf(file.sql.replaceAll('\r\n', '\n'));
}

/**
 * Creates the database if missing and applies every pending migration, each
 * in its own transaction, under Prisma's advisory lock (concurrent callers
 * wait; the second finds nothing to do). Refuses to run when an applied
 * migration's file changed or an earlier (Prisma CLI) attempt failed halfway.
 * A migration that fails here is rolled back entirely and not recorded.
 */
export async function migrate(options: MigrateOptions): Promise<MigrateResult> {
  const log = options.log ?? (() => {});
  const migrations = await readMigrations(options.migrationsDir ?? DEFAULT_MIGRATIONS_DIR);
  const client = await connect(options.databaseUrl, log);
  const applied: string[] = [];
  try {
    if (options.schema !== undefined) {
      const schema = quoteIdent(options.schema);
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      // Session-wide, so every migration (each in its own transaction) and the ledger land there.
      await client.query(`SET search_path TO ${schema}`);
    }
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      await client.query(MIGRATIONS_TABLE_DDL);
      const { rows } = await client.query<AppliedRow>(
        'SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations" ORDER BY started_at',
      );
      const done = new Map<string, AppliedRow>();
      for (const row of rows) {
        if (row.rolled_back_at !== null) continue;
        if (row.finished_at === null) {
          throw new MigrationError(
            `Migration ${row.migration_name} failed earlier and is recorded as unfinished; resolve it (prisma migrate resolve) before migrating`,
            row.migration_name,
          );
        }
        done.set(row.migration_name, row);
      }
      const local = new Set(migrations.map((m) => m.name));
      for (const name of done.keys()) {
        if (!local.has(name)) log(`warning: migration ${name} is applied but missing from the migrations directory`);
      }
      for (const m of migrations) {
        const row = done.get(m.name);
        if (row !== undefined && !sameScript(row.checksum, m)) {
          throw new MigrationError(
            `Migration ${m.name} was modified after it was applied (checksum ${m.checksum} differs from recorded ${row.checksum}); add a new migration instead of editing an applied one`,
            m.name,
          );
        }
      }
      for (const m of migrations) {
        if (done.has(m.name)) continue;
        await applyOne(client, m);
        applied.push(m.name);
        log(`applied migration ${m.name}`);
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => {});
    }
  } finally {
    await client.end();
  }
  if (applied.length === 0) log('database is up to date');
  return { applied };
}

async function applyOne(client: pg.Client, m: MigrationFile): Promise<void> {
  await client.query('BEGIN');
  try {
    // A parameterless query uses the simple protocol, which runs many statements.
    await client.query(m.sql);
    await client.query(
      `INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, logs, started_at, applied_steps_count)
       VALUES ($1, $2, clock_timestamp(), $3, NULL, now(), 1)`,
      [randomUUID(), m.checksum, m.name],
    );
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    const reason = err instanceof Error ? err.message : String(err);
    throw new MigrationError(`Migration ${m.name} failed and was rolled back: ${reason}`, m.name, { cause: err });
  }
}
