/**
 * `npm run db:migrate`: creates the database if missing and applies pending
 * migrations. Reads DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/flipfix).
 */
import { BaseEnv, parseEnv } from '@flipfix/config';
import { createLogger } from '@flipfix/logger';
import { migrate } from '../migrate.ts';

const env = parseEnv(BaseEnv.pick({ DATABASE_URL: true, LOG_LEVEL: true }));
const log = createLogger({ name: 'migrate', level: env.LOG_LEVEL });

try {
  const { applied } = await migrate({ databaseUrl: env.DATABASE_URL, log: (msg) => log.info(msg) });
  log.info({ applied: applied.length }, 'migrations done');
} catch (err) {
  log.error({ err }, 'migration failed');
  process.exitCode = 1;
}
