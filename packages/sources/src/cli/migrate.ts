/**
 * `npm run db:migrate`: creates the database if missing and applies pending
 * migrations. Reads DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/flipfix)
 * and SOURCE: with `flipfix`, our tables and the capture triggers go into the
 * `flipfix_notify` schema of the existing Flipfix database.
 */
import { BaseEnv, parseEnv, SourceEnv } from '@flipfix/config';
import { createLogger } from '@flipfix/logger';
import { migrateSource, sourceFor } from '../index.ts';

const env = parseEnv(BaseEnv.pick({ DATABASE_URL: true, LOG_LEVEL: true }).extend(SourceEnv.shape));
const log = createLogger({ name: 'migrate', level: env.LOG_LEVEL });
const source = sourceFor(env);

try {
  const { applied } = await migrateSource(source, env.DATABASE_URL, (msg) => log.info({ source: source.name, schema: source.schema }, msg));
  log.info({ applied: applied.length, source: source.name }, 'migrations done');
} catch (err) {
  log.error({ err }, 'migration failed');
  process.exitCode = 1;
}
