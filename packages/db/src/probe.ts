/**
 * One connection and `SELECT 1`, for start-up checks: resolves when the
 * server answers, rejects with pg's error (its `code` says why) otherwise.
 */
import pg from 'pg';

/** Options for {@link probePostgres}. */
export interface ProbePostgresOptions {
  /** Accept a server whose database does not exist yet (the migration runner creates it). */
  allowMissingDatabase?: boolean;
  /** Connection timeout. Default 3000 ms. */
  timeoutMs?: number;
}

/** Resolves once Postgres at `databaseUrl` answers a query. */
export async function probePostgres(databaseUrl: string, options: ProbePostgresOptions = {}): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: options.timeoutMs ?? 3000 });
  // A server going away mid-probe emits 'error' on the client; the rejected promise already says so.
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (err) {
    if (options.allowMissingDatabase && (err as { code?: unknown }).code === '3D000') return;
    throw err;
  } finally {
    await client.end().catch(() => undefined);
  }
}
