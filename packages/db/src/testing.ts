/**
 * Test support: a fresh, migrated database per test file in a few tens of
 * milliseconds, and factories for records with sensible defaults.
 */
import { randomBytes } from 'node:crypto';
import { DEFAULT_DATABASE_URL } from '@flipfix/config';
import pg from 'pg';
import { createDb, type Db } from './client.ts';
import type { Machine } from './generated/prisma/client.ts';
import {
  checksumOf,
  DEFAULT_MIGRATIONS_DIR,
  migrate,
  migrationSetChecksum,
  quoteIdent,
  readMigrations,
  withDatabase,
} from './migrate.ts';
import { type CreateLogEntryInput, createLogEntry, type LogEntryWithRelations } from './services/log-entries.ts';
import { type CreateMachineInput, createMachine } from './services/machines.ts';
import {
  type CreatePartRequestInput,
  type CreatePartRequestUpdateInput,
  createPartRequest,
  createPartRequestUpdate,
  type PartRequestUpdateWithRelations,
  type PartRequestWithRelations,
} from './services/part-requests.ts';
import {
  type CreateProblemReportInput,
  createProblemReport,
  type ProblemReportWithRelations,
} from './services/problem-reports.ts';

/**
 * Prefix of the migrated databases test databases are copied from: one per
 * migration set (named by its checksum), so checkouts with different
 * migrations on one server never rebuild each other's template.
 */
export const TEST_TEMPLATE_DATABASE = 'flipfix_test_template';
const TEMPLATE_LOCK_KEY = 72707370;
const COMMENT_PREFIX = 'flipfix migrations ';

export interface TestDatabase {
  /** Connection URL of the new database. */
  url: string;
  db: Db;
  /** Closes `db` and drops the database (even with other connections open). */
  drop(): Promise<void>;
}

export interface CreateTestDatabaseOptions {
  /** Any database on the target server (default: the development DATABASE_URL). */
  baseUrl?: string | undefined;
  migrationsDir?: string | readonly string[] | undefined;
  /** Schema our migrations go into (and `db` uses); default public. */
  schema?: string | undefined;
  /** SQL run on the template before migrating, e.g. another app's schema to attach to. */
  setupSql?: string | undefined;
  /** Pool size of the returned `db`. */
  max?: number | undefined;
}

/**
 * Creates a uniquely named database from a migrated template. The template
 * is rebuilt only when the migration set changes; an advisory lock on the
 * `postgres` database keeps parallel test processes from building it twice
 * or copying it while it is being built.
 */
export async function createTestDatabase(options: CreateTestDatabaseOptions = {}): Promise<TestDatabase> {
  const baseUrl = options.baseUrl ?? DEFAULT_DATABASE_URL;
  const migrationsDir = options.migrationsDir ?? DEFAULT_MIGRATIONS_DIR;
  const migrationsChecksum = migrationSetChecksum(await readMigrations(migrationsDir));
  const checksum =
    options.schema === undefined && options.setupSql === undefined
      ? migrationsChecksum
      : checksumOf(`${migrationsChecksum}\0${options.schema ?? ''}\0${options.setupSql ?? ''}`);
  const templateName = `${TEST_TEMPLATE_DATABASE}_${checksum.slice(0, 12)}`;
  const name = `flipfix_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: withDatabase(baseUrl, 'postgres') });
  await admin.connect();
  try {
    await admin.query('SELECT pg_advisory_lock($1)', [TEMPLATE_LOCK_KEY]);
    try {
      const { rows } = await admin.query<{ comment: string | null }>(
        `SELECT shobj_description(oid, 'pg_database') AS comment FROM pg_database WHERE datname = $1`,
        [templateName],
      );
      if (rows[0]?.comment !== COMMENT_PREFIX + checksum) {
        const template = quoteIdent(templateName);
        await admin.query(`DROP DATABASE IF EXISTS ${template} WITH (FORCE)`);
        await admin.query(`CREATE DATABASE ${template}`);
        if (options.setupSql !== undefined) await runScript(withDatabase(baseUrl, templateName), options.setupSql);
        await migrate({ databaseUrl: withDatabase(baseUrl, templateName), migrationsDir, schema: options.schema });
        // Marked complete only after migrating, so a half-built template is rebuilt next time.
        await admin.query(`COMMENT ON DATABASE ${template} IS '${COMMENT_PREFIX}${checksum}'`);
      }
      await admin.query(`CREATE DATABASE ${quoteIdent(name)} TEMPLATE ${quoteIdent(templateName)}`);
    } finally {
      await admin.query('SELECT pg_advisory_unlock($1)', [TEMPLATE_LOCK_KEY]).catch(() => {});
    }
  } finally {
    await admin.end();
  }
  const url = withDatabase(baseUrl, name);
  const db = createDb({ databaseUrl: url, max: options.max, schema: options.schema });
  let dropping: Promise<void> | undefined;
  return {
    url,
    db,
    drop() {
      dropping ??= (async () => {
        await db.close();
        await dropDatabase(baseUrl, name);
      })();
      return dropping;
    },
  };
}

/** Runs a multi-statement SQL script on one connection. */
async function runScript(databaseUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Drops a database, disconnecting whoever is still connected. */
export async function dropDatabase(baseUrl: string, name: string): Promise<void> {
  const admin = new pg.Client({ connectionString: withDatabase(baseUrl, 'postgres') });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

let sequence = 0;
function unique(): string {
  sequence += 1;
  return `${sequence}-${randomBytes(3).toString('hex')}`;
}

/**
 * Record factories: defaults for every required field, overrides win, and
 * parents (machine, part request) are created when not given. They go
 * through the services, so the outbox triggers fire as in production.
 */
export const factories = {
  machine(db: Db, overrides: Partial<CreateMachineInput> = {}): Promise<Machine> {
    const n = unique();
    return createMachine(db, { name: `Test Machine ${n}`, shortName: `TM${n}`, location: 'Test floor', ...overrides });
  },
  async problemReport(db: Db, overrides: Partial<CreateProblemReportInput> = {}): Promise<ProblemReportWithRelations> {
    const machineId = overrides.machineId ?? (await factories.machine(db)).id;
    return createProblemReport(db, { description: 'Ball stuck behind the left ramp', ...overrides, machineId });
  },
  async logEntry(db: Db, overrides: Partial<CreateLogEntryInput> = {}): Promise<LogEntryWithRelations> {
    const machineId = overrides.machineId ?? (await factories.machine(db)).id;
    return createLogEntry(db, {
      text: 'Cleaned the playfield',
      maintainerNames: ['Test Maintainer'],
      ...overrides,
      machineId,
    });
  },
  partRequest(db: Db, overrides: Partial<CreatePartRequestInput> = {}): Promise<PartRequestWithRelations> {
    return createPartRequest(db, { text: 'Flipper rebuild kit', requestedByName: 'Test Requester', ...overrides });
  },
  async partRequestUpdate(
    db: Db,
    overrides: Partial<CreatePartRequestUpdateInput> & { partRequestId?: number } = {},
  ): Promise<PartRequestUpdateWithRelations> {
    const { partRequestId: given, ...input } = overrides;
    const partRequestId = given ?? (await factories.partRequest(db)).id;
    return createPartRequestUpdate(db, partRequestId, { text: 'Ordered from the supplier', ...input });
  },
};
