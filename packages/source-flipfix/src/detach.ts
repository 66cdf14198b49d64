/**
 * Removes everything the Flipfix source installed: the `flipfix_notify`
 * schema (our tables, the outbox, the ledger, settings, our migration
 * ledger) and, with the capture functions, the triggers on Flipfix's
 * tables. Flipfix's tables, data and Django's migration history are left
 * exactly as they were.
 */
import pg from 'pg';

export interface DetachResult {
  /** False when there was nothing to remove. */
  removed: boolean;
  /** Our triggers found on Flipfix's tables before removal, `table.trigger`. */
  triggers: string[];
}

/**
 * Drops `schema` and everything in it, in one transaction. The triggers on
 * Flipfix's tables go with the capture functions they call (DROP SCHEMA …
 * CASCADE): a role that owns our schema but not Flipfix's tables may not
 * DROP TRIGGER on them, yet may drop its own functions and what depends on
 * them. They are listed first, so the result says what was removed.
 */
export async function detachFlipfix(databaseUrl: string, schema: string): Promise<DetachResult> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('BEGIN');
    const exists = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
    if (exists.rowCount === 0) {
      await client.query('ROLLBACK');
      return { removed: false, triggers: [] };
    }
    // Triggers anywhere whose function lives in our schema.
    const { rows } = await client.query<{ table_name: string; trigger: string }>(
      `SELECT c.relname AS table_name, t.tgname AS trigger
         FROM pg_trigger t
         JOIN pg_class c ON c.oid = t.tgrelid
         JOIN pg_namespace tn ON tn.oid = c.relnamespace
         JOIN pg_proc p ON p.oid = t.tgfoid
         JOIN pg_namespace pn ON pn.oid = p.pronamespace
        WHERE pn.nspname = $1 AND tn.nspname <> $1
        ORDER BY 1, 2`,
      [schema],
    );
    const ident = (s: string) => `"${s.replaceAll('"', '""')}"`;
    await client.query(`DROP SCHEMA ${ident(schema)} CASCADE`);
    await client.query('COMMIT');
    return { removed: true, triggers: rows.map((r) => `${r.table_name}.${r.trigger}`) };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    await client.end();
  }
}
