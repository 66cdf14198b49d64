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
}

/**
 * Connects lazily: nothing touches the network until the first query.
 * Prisma and raw SQL share one pool so a process holds one set of connections.
 */
export function createDb(options: CreateDbOptions): Db {
  const pool = new pg.Pool({
    connectionString: options.databaseUrl,
    ...(options.max === undefined ? {} : { max: options.max }),
  });
  // Without a listener an idle client's error would crash the process.
  const onError = options.onError ?? (() => {});
  pool.on('error', onError);
  const adapter = new PrismaPg(pool, { onConnectionError: onError });
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
