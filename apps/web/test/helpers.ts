/**
 * Test support: the web app on a random port, over a fresh database and a
 * unique Redis prefix, torn down by `close()`.
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { REST } from '@discordjs/rest';
import { DEFAULT_REDIS_URL } from '@flipfix/config';
import { createTestDatabase, type Db } from '@flipfix/db';
import { createLogger, type Logger } from '@flipfix/logger';
import { createRedis, deletePrefix, openAllQueues, type RedisConnection, type RedisTarget } from '@flipfix/queue';
import { createApp, type WebConfig } from '../src/app';

export const TEST_ADMIN_TOKEN = 'test-admin-token-0123456789';

export interface TestWeb {
  url: string;
  db: Db;
  dbUrl: string;
  redis: RedisConnection;
  prefix: string;
  queues: ReturnType<typeof openAllQueues>;
  close(): Promise<void>;
}

export async function startTestWeb(
  options: {
    discordRest?: REST;
    discordToken?: string;
    config?: Partial<WebConfig>;
    prefix?: string;
    database?: { url: string; db: Db };
    interactions?: { publicKey: string; discordApiUrl: string };
    domain?: boolean;
    /** The app's logger; silent by default (TEST_LOG_LEVEL to see it). */
    log?: Logger;
    /** A Sentinel set or Cluster instead of REDIS_URL (pass a hash-tagged prefix with it). */
    redis?: RedisTarget;
  } = {},
): Promise<TestWeb> {
  const database = options.database ?? (await createTestDatabase());
  const prefix = options.prefix ?? `t-web-${randomBytes(5).toString('hex')}`;
  const redisTarget = options.redis ?? process.env.REDIS_URL ?? DEFAULT_REDIS_URL;
  const redis = createRedis(redisTarget, 'producer');
  const queues = openAllQueues(redis, prefix);
  const app = createApp({
    db: database.db,
    redis,
    queues,
    log: options.log ?? createLogger({ name: 'web-test', level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    ...(options.discordRest ? { discordRest: options.discordRest } : {}),
    ...(options.discordToken ? { discordToken: options.discordToken } : {}),
    ...(options.interactions ? { interactions: options.interactions } : {}),
    ...(options.domain === undefined ? {} : { domain: options.domain }),
    config: {
      adminToken: TEST_ADMIN_TOKEN,
      baseUrl: 'http://localhost:3000',
      defaultChannelId: '1100000000000000001',
      keyPrefix: prefix,
      discordCacheMs: 0,
      ...options.config,
    },
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    db: database.db,
    dbUrl: database.url,
    redis,
    prefix,
    queues,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.all(Object.values(queues).map((q) => q.close()));
      await deletePrefix(redisTarget, prefix);
      await redis.quit();
      if (!options.database && 'drop' in database) await (database as { drop(): Promise<void> }).drop();
    },
  };
}

/** fetch + JSON, for API tests. */
export async function call(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field by the assertions
): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(base + path, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    redirect: 'manual',
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

/** A logged-in console session: its cookie and CSRF token, read from the pages like a browser would. */
export async function login(base: string, token = TEST_ADMIN_TOKEN): Promise<{ cookie: string; csrf: string }> {
  const form = await fetch(`${base}/admin/login`);
  const loginCookie = (form.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const loginCsrf = /name="_csrf" value="([^"]+)"/.exec(await form.text())?.[1] ?? '';
  const res = await fetch(`${base}/admin/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: loginCookie },
    body: new URLSearchParams({ _csrf: loginCsrf, token, next: '/admin/settings' }),
    redirect: 'manual',
  });
  if (res.status !== 303) throw new Error(`login failed: ${res.status}`);
  const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const page = await fetch(`${base}/admin/settings`, { headers: { cookie } });
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())?.[1] ?? '';
  return { cookie, csrf };
}
