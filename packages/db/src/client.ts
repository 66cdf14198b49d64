import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaClient } from './generated/prisma/client.ts';

/** A Prisma client and the pg pool under it (for raw SQL and LISTEN). */
export interface Db {
  prisma: PrismaClient;
  pool: pg.Pool;
  /** Disconnects Prisma and ends the pool. Idempotent. */
  close(): Promise<void>;
}

export interface CreateDbOptions {
  databaseUrl: string;
  /** Pool size (pg's default is 10). */
  max?: number | undefined;
  /** Called with pool-level errors (an idle connection dropped by the server); they are swallowed otherwise. */
  onError?: ((err: Error) => void) | undefined;
  /**
   * Postgres schema of our own tables (default `public`). A source that
   * attaches to another app's database keeps them in a schema of their own
   * (see `Source.schema`): Prisma qualifies its queries with it and raw SQL
   * finds them through the connection's search_path.
   */
  schema?: string | undefined;
}

/**
 * Connects lazily: nothing touches the network until the first query.
 * Prisma and raw SQL share one pool so a process holds one set of connections.
 */
export function createDb(options: CreateDbOptions): Db {
  const pool = new pg.Pool({
    connectionString: options.databaseUrl,
    ...(options.max === undefined ? {} : { max: options.max }),
    ...(options.schema === undefined ? {} : { options: `-c search_path=${searchPathOf(options.schema)}` }),
  });
  // Without a listener an idle client's error would crash the process.
  const onError = options.onError ?? (() => {});
  pool.on('error', onError);
  const adapter = new PrismaPg(pool, { onConnectionError: onError, ...(options.schema === undefined ? {} : { schema: options.schema }) });
  const prisma = new PrismaClient({ adapter });
  let closing: Promise<void> | undefined;
  return {
    prisma,
    pool,
    close() {
      closing ??= (async () => {
        await prisma.$disconnect();
        await pool.end();
      })();
      return closing;
    },
  };
}

/** Either a {@link Db} or a bare Prisma client: services accept both. */
export type DbLike = Db | PrismaClient;

/** The Prisma client behind a {@link DbLike}. */
export function prismaOf(db: DbLike): PrismaClient {
  return '$transaction' in db ? db : db.prisma;
}

/** A schema name safe to put in a connection's `-c search_path=` option. */
export function searchPathOf(schema: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`schema must be a lower-case Postgres identifier, got ${JSON.stringify(schema)}`);
  return schema;
}
