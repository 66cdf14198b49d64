/**
 * @flipfix/sources: picks the source `SOURCE` names and applies or removes
 * what it installs. The one place that knows every source, so apps, scripts
 * and benchmarks depend on this package rather than on each source.
 */
import type { SourceEnv } from '@flipfix/config';
import { builtinSource, migrate, type MigrateResult, type Source } from '@flipfix/db';
import { createFlipfixSource, detachFlipfix, type DetachResult } from '@flipfix/source-flipfix';

export { builtinSource, type Source, type SourceName, type SourceRecords } from '@flipfix/db';
export { createFlipfixSource, FLIPFIX_SCHEMA } from '@flipfix/source-flipfix';

/** The source an environment selects (`SOURCE`, default builtin). */
export function sourceFor(env: Partial<SourceEnv>): Source {
  return env.SOURCE === 'flipfix' ? createFlipfixSource({ mediaUrl: env.FLIPFIX_MEDIA_URL }) : builtinSource;
}

/** Applies the source's migrations (ours, then its capture) into its schema. */
export function migrateSource(source: Source, databaseUrl: string, log?: (msg: string) => void): Promise<MigrateResult> {
  return migrate({
    databaseUrl,
    migrationsDir: source.migrationsDirs,
    ...(source.schema === 'public' ? {} : { schema: source.schema }),
    log,
  });
}

/** Thrown by {@link detachSource} for the built-in source, whose tables are the app's own. */
export class DetachError extends Error {
  override name = 'DetachError';
}

/**
 * Removes everything the source installed in the database. Only a source
 * attached to another app's database can be detached: the built-in source's
 * schema is its data.
 */
export function detachSource(source: Source, databaseUrl: string): Promise<DetachResult> {
  if (source.schema === 'public') {
    return Promise.reject(new DetachError(`the ${source.name} source owns its tables; there is nothing to detach`));
  }
  return detachFlipfix(databaseUrl, source.schema);
}
