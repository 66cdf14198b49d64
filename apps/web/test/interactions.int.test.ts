/**
 * The interactions endpoint as the web app mounts it: signatures are checked
 * over the raw bytes, so it must sit before the JSON body parser.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SIM_DEFAULTS } from '@flipfix/config';
import { signDiscordRequest } from '@flipfix/discord';
import { startTestWeb, type TestWeb } from './helpers';

let web: TestWeb;
beforeAll(async () => {
  web = await startTestWeb({ interactions: { publicKey: SIM_DEFAULTS.publicKey, discordApiUrl: 'http://127.0.0.1:9/api' } });
});
afterAll(async () => {
  await web?.close();
});

function post(body: string, headers: Record<string, string>) {
  return fetch(`${web.url}/discord/interactions`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
}

it('answers a signed PING with PONG', async () => {
  const body = JSON.stringify({ id: '1200000000000000001', type: 1, application_id: '1100000000000000010', token: 't', version: 1 });
  const timestamp = String(Math.floor(Date.now() / 1000));
  const res = await post(body, {
    'x-signature-ed25519': signDiscordRequest(SIM_DEFAULTS.privateKeySeed, timestamp, Buffer.from(body)),
    'x-signature-timestamp': timestamp,
  });
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ type: 1 });
});

it('refuses a missing or mismatched signature with 401', async () => {
  const body = JSON.stringify({ id: '1200000000000000002', type: 1 });
  const timestamp = String(Math.floor(Date.now() / 1000));
  expect((await post(body, {})).status).toBe(401);
  const other = signDiscordRequest(SIM_DEFAULTS.privateKeySeed, timestamp, Buffer.from(`${body} `));
  expect((await post(body, { 'x-signature-ed25519': other, 'x-signature-timestamp': timestamp })).status).toBe(401);
});
