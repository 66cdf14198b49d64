/**
 * @flipfix/source-flipfix: events from an existing Flipfix database (the
 * Django app), with no change to Flipfix. Our tables and the capture live in
 * the `flipfix_notify` schema; Flipfix's tables are only read and given
 * triggers (see migrations/, and docs/SOURCES.md for the whole story).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_MIGRATIONS_DIR, type Source } from '@flipfix/db';
import { flipfixRecords } from './records.ts';

export { detachFlipfix, type DetachResult } from './detach.ts';
export { FLIPFIX_READ_TABLES, FLIPFIX_TRIGGER_TABLES, flipfixGrantsSql } from './grants.ts';
export { FLIPFIX_MEDIA_URL, FLIPFIX_PATHS, flipfixRecordPath, mediaUrl } from './pages.ts';
export { flipfixRecords, type FlipfixRecordsOptions } from './records.ts';

/** The schema that holds everything we install in Flipfix's database. */
export const FLIPFIX_SCHEMA = 'flipfix_notify';

/** The capture's migrations (applied after ours, into {@link FLIPFIX_SCHEMA}). */
export const FLIPFIX_MIGRATIONS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'migrations');

export interface FlipfixSourceOptions {
  /** Flipfix's MEDIA_URL when it is not `/media/` (e.g. an absolute CDN URL). */
  mediaUrl?: string | undefined;
}

/** The Flipfix source: our migrations and the capture in `flipfix_notify`, records read from Flipfix's tables. */
export function createFlipfixSource(options: FlipfixSourceOptions = {}): Source {
  return {
    name: 'flipfix',
    schema: FLIPFIX_SCHEMA,
    migrationsDirs: [DEFAULT_MIGRATIONS_DIR, FLIPFIX_MIGRATIONS_DIR],
    records: (db, baseUrl) => flipfixRecords(db, { baseUrl, mediaUrl: options.mediaUrl }),
  };
}
