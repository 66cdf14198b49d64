/**
 * @flipfix/db: the Prisma client and its pg pool, migrations, domain
 * services, the outbox's post view, settings, seed data and test support.
 */
export { createDb, prismaOf, searchPathOf, type CreateDbOptions, type Db, type DbLike } from './client.ts';
export { probePostgres, type ProbePostgresOptions } from './probe.ts';
export { AppError, NotFoundError, isAppError, type AppErrorCode, type AppErrorOptions } from './errors.ts';
export {
  DEFAULT_MIGRATIONS_DIR,
  MIGRATION_LOCK_KEY,
  MigrationError,
  checksumOf,
  databaseNameOf,
  ensureDatabase,
  migrate,
  migrationSetChecksum,
  quoteIdent,
  readMigrations,
  withDatabase,
  type MigrateOptions,
  type MigrateResult,
  type MigrationFile,
} from './migrate.ts';
export * from './services/machines.ts';
export * from './services/problem-reports.ts';
export * from './services/log-entries.ts';
export * from './services/part-requests.ts';
export { DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT, type ListOptions } from './services/shared.ts';
export { loadPostSubject, loadPostSubjects, type PostSubjectRef } from './post-subject.ts';
export { RECORD_PATHS, createRecordLinkLookup, linkPreview, storeLinks } from './links.ts';
export { SOURCE_NAMES, builtinSource, type Source, type SourceName, type SourceRecords } from './source.ts';
export * from './settings.ts';
export { LISTEN_PROBE_CHANNEL, listenWorks, notificationsArrive } from './listen-probe.ts';
export { DEMO_MACHINES, seedDemo } from './seed.ts';
export {
  TEST_TEMPLATE_DATABASE,
  createTestDatabase,
  dropDatabase,
  factories,
  type CreateTestDatabaseOptions,
  type TestDatabase,
} from './testing.ts';

/** Outbox channels the triggers NOTIFY on. */
export const OUTBOX_CHANNEL = 'flipfix_outbox';
export const SETTINGS_CHANNEL = 'flipfix_settings';

export { Prisma, PrismaClient } from './generated/prisma/client.ts';
export type {
  Delivery,
  LogEntry,
  Machine,
  OutboxEvent,
  PartRequest,
  PartRequestUpdate,
  Photo,
  ProblemReport,
  Settings,
  SettingsAudit,
} from './generated/prisma/client.ts';
export {
  DeliveryMode,
  DeliveryStatus,
  OperationalStatus,
  OutboxStatus,
  PartRequestStatus,
  ProblemPriority,
  ProblemReportStatus,
  ProblemType,
} from './generated/prisma/enums.ts';
export {
  LEDGER_STATUSES,
  TRANSITIONS,
  ledger,
  nonceKeyOf,
  type CreatedDelivery,
  type DeliveredRow,
  type LedgerStatus,
  type NewDelivery,
  type Queryable,
  type TransitionName,
} from './ledger.ts';
