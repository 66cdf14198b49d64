/**
 * A real PgBouncer (Debian's `pgbouncer`) in transaction pooling mode in
 * front of the test Postgres, on a loopback port chosen at run time: what
 * managed Postgres often looks like in production.
 */
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import path from 'node:path';
import { connect } from 'node:net';
import { freePort, type ServerProcess, scratchDir, startServer } from './processes';
import { waitFor } from './wait';

const PGBOUNCER = '/usr/sbin/pgbouncer';

/** Whether Debian's pgbouncer is installed. */
export const hasPgBouncer = existsSync(PGBOUNCER);

export interface PgBouncerRig {
  port: number;
  process: ServerProcess;
  /** `databaseUrl` with its host and port replaced by PgBouncer's. */
  urlFor(databaseUrl: string): string;
  stop(): Promise<void>;
}

export interface PgBouncerOptions {
  /** The Postgres server behind it. Default 127.0.0.1:5432. */
  postgres?: { host: string; port: number };
  poolMode?: 'transaction' | 'session';
  /** Server connections per (database, user). */
  poolSize?: number;
}

/** Starts PgBouncer (trust auth, like the test Postgres) and resolves once it accepts connections. */
export async function startPgBouncer(options: PgBouncerOptions = {}): Promise<PgBouncerRig> {
  const scratch = scratchDir('pgbouncer');
  const port = await freePort();
  const backend = options.postgres ?? { host: '127.0.0.1', port: 5432 };
  const config = path.join(scratch.dir, 'pgbouncer.ini');
  writeFileSync(path.join(scratch.dir, 'users.txt'), '"postgres" ""\n');
  writeFileSync(
    config,
    [
      '[databases]',
      `* = host=${backend.host} port=${backend.port}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = trust',
      `auth_file = ${path.join(scratch.dir, 'users.txt')}`,
      `pool_mode = ${options.poolMode ?? 'transaction'}`,
      `default_pool_size = ${options.poolSize ?? 20}`,
      'max_client_conn = 500',
      // node-postgres sends these at startup; PgBouncer must not refuse them.
      'ignore_startup_parameters = extra_float_digits,options,application_name',
      '',
    ].join('\n'),
  );
  // PgBouncer refuses to run as root; it then drops to the postgres user, which must read the files.
  const asRoot = userInfo().uid === 0;
  if (asRoot) chmodSync(scratch.dir, 0o755);
  const server = startServer(PGBOUNCER, [...(asRoot ? ['-u', 'postgres'] : []), config], port, scratch.dir);
  try {
    await waitFor(
      () =>
        new Promise<boolean>((resolve) => {
          const socket = connect(port, '127.0.0.1');
          socket.once('connect', () => {
            socket.destroy();
            resolve(true);
          });
          socket.once('error', () => resolve(false));
        }),
      { what: `pgbouncer listening (${server.output.slice(-3).join(' | ')})`, timeoutMs: 15_000, intervalMs: 50 },
    );
  } catch (err) {
    await server.kill();
    scratch.remove();
    throw err;
  }
  return {
    port,
    process: server,
    urlFor(databaseUrl: string) {
      const url = new URL(databaseUrl);
      url.hostname = '127.0.0.1';
      url.port = String(port);
      return url.toString();
    },
    async stop() {
      await server.kill('SIGTERM');
      scratch.remove();
    },
  };
}
