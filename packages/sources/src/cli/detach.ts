/**
 * `npm run db:detach`: removes everything `npm run db:migrate` installed in a
 * Flipfix database (SOURCE=flipfix): the flipfix_notify schema and the
 * triggers on Flipfix's tables. Flipfix's tables and data are untouched.
 */
import { BaseEnv, parseEnv, SourceEnv } from '@flipfix/config';
import { createLogger } from '@flipfix/logger';
import { detachSource, sourceFor } from '../index.ts';

const env = parseEnv(BaseEnv.pick({ DATABASE_URL: true, LOG_LEVEL: true }).extend(SourceEnv.shape));
const log = createLogger({ name: 'detach', level: env.LOG_LEVEL });
const source = sourceFor(env);

try {
  const { removed, triggers } = await detachSource(source, env.DATABASE_URL);
  log.info({ source: source.name, schema: source.schema, removed, triggers }, removed ? 'detached' : 'nothing to detach');
} catch (err) {
  log.error({ err }, 'detach failed');
  process.exitCode = 1;
}
