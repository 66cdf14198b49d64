/**
 * The worker's view of the settings: loaded at start, reloaded on the
 * `flipfix_settings` NOTIFY and, as a backstop for a lost LISTEN connection,
 * whenever a cheap version poll (every second) sees a change. A change in the
 * console is therefore in effect in every worker within a second.
 */
import type { Pool, PoolClient } from 'pg';
import { getSettings, type NotifySettings, type PrismaClient } from '@flipfix/db';
import type { Logger } from '@flipfix/logger';

export interface SettingsCacheOptions {
  prisma: PrismaClient;
  pool: Pool;
  log: Logger;
  pollMs?: number;
}

export class SettingsCache {
  #settings: NotifySettings | null = null;
  #listener: PoolClient | null = null;
  #timer: NodeJS.Timeout | null = null;
  #closed = false;
  readonly #opts: SettingsCacheOptions;

  constructor(options: SettingsCacheOptions) {
    this.#opts = options;
  }

  async start(): Promise<void> {
    await this.reload();
    await this.#listen();
    this.#timer = setInterval(() => void this.#poll(), this.#opts.pollMs ?? 1000);
    this.#timer.unref();
  }

  /** The settings as of the last load. */
  get current(): NotifySettings {
    if (!this.#settings) throw new Error('SettingsCache used before start()');
    return this.#settings;
  }

  async reload(): Promise<NotifySettings> {
    const next = await getSettings(this.#opts.prisma);
    if (this.#settings && next.version !== this.#settings.version) {
      this.#opts.log.info({ version: next.version, deliveryMode: next.deliveryMode }, 'settings reloaded');
    }
    this.#settings = next;
    return next;
  }

  async #listen(): Promise<void> {
    if (this.#closed) return;
    let client: PoolClient | undefined;
    try {
      client = await this.#opts.pool.connect();
      const listener = client;
      listener.on('notification', () => void this.reload().catch((err) => this.#opts.log.warn({ err }, 'settings reload failed')));
      listener.on('error', (err) => {
        // Released already (by close, or below when LISTEN failed): releasing twice throws.
        if (this.#listener !== listener) return;
        this.#opts.log.warn({ err }, 'settings listener lost; polling until it is back');
        this.#listener = null;
        listener.release(true);
      });
      await listener.query('LISTEN flipfix_settings');
      this.#listener = listener;
    } catch (err) {
      if (client && this.#listener !== client) client.release(true);
      this.#opts.log.warn({ err }, 'settings LISTEN failed; polling');
    }
  }

  async #poll(): Promise<void> {
    if (this.#closed) return;
    try {
      const { rows } = await this.#opts.pool.query<{ version: number }>('SELECT version FROM settings WHERE id = 1');
      if (rows[0] && rows[0].version !== this.#settings?.version) await this.reload();
      if (!this.#listener) await this.#listen();
    } catch (err) {
      this.#opts.log.warn({ err }, 'settings poll failed');
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    if (this.#listener) {
      const l = this.#listener;
      this.#listener = null;
      await l.query('UNLISTEN *').catch(() => undefined);
      l.release();
    }
  }
}
