/**
 * Does LISTEN work on this connection? Behind PgBouncer in transaction
 * pooling mode, LISTEN succeeds but the session that ran it goes back to the
 * pool, so notifications never reach us: no error, just silence. The only
 * reliable test is to send ourselves one and wait for it.
 */
import { randomUUID } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';

/** The channel probes are sent on (nothing else listens to it). */
export const LISTEN_PROBE_CHANNEL = 'flipfix_listen_probe';

/**
 * Sends a NOTIFY from `pool` and resolves whether `listener` received it
 * within `timeoutMs`. The listener keeps its other LISTENs; the probe's own
 * is undone.
 */
export async function notificationsArrive(listener: PoolClient, pool: Pool, timeoutMs = 2000): Promise<boolean> {
  const token = randomUUID();
  let onNotification: ((msg: { channel: string; payload?: string | undefined }) => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  const arrived = new Promise<boolean>((resolve) => {
    onNotification = (msg) => {
      if (msg.channel === LISTEN_PROBE_CHANNEL && msg.payload === token) resolve(true);
    };
    listener.on('notification', onNotification);
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    await listener.query(`LISTEN ${LISTEN_PROBE_CHANNEL}`);
    await pool.query('SELECT pg_notify($1, $2)', [LISTEN_PROBE_CHANNEL, token]);
    return await arrived;
  } finally {
    clearTimeout(timer);
    if (onNotification) listener.removeListener('notification', onNotification);
    await listener.query(`UNLISTEN ${LISTEN_PROBE_CHANNEL}`).catch(() => undefined);
  }
}

/** {@link notificationsArrive} on a connection of its own, for a health check. */
export async function listenWorks(pool: Pool, timeoutMs = 2000): Promise<boolean> {
  const client = await pool.connect();
  try {
    return await notificationsArrive(client, pool, timeoutMs);
  } finally {
    client.release();
  }
}
