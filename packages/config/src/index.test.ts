import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BaseEnv, EnvError, loadDevToken, parseEnv, resolveRuntime, SIM_DEFAULTS, startupProblem } from './index';

const runtime = (vars: Record<string, string>) => resolveRuntime(parseEnv(BaseEnv, vars));
const TOKEN = 'real-bot-token.abc.def';
const KEY = 'ab'.repeat(32);

describe('resolveRuntime: fails closed', () => {
  it('uses the simulator and its defaults without a bot token', () => {
    const { discord, baseUrl } = runtime({});
    expect(discord).toMatchObject({ simulated: true, apiUrl: 'http://127.0.0.1:4100/api', publicKey: SIM_DEFAULTS.publicKey, channelId: SIM_DEFAULTS.channelId });
    expect(baseUrl).toBe('http://localhost:3000');
  });

  it('refuses a bot token for a real API without DISCORD_PUBLIC_KEY, never falling back to the simulator key', () => {
    for (const vars of [
      { NODE_ENV: 'production', APP_BASE_URL: 'https://flipfix.example.org', DISCORD_BOT_TOKEN: TOKEN, DISCORD_CHANNEL_ID: '123456789012345678' },
      { DISCORD_BOT_TOKEN: TOKEN, DISCORD_CHANNEL_ID: '123456789012345678', DISCORD_API_URL: 'https://discord-proxy.example.org/api' },
      // A URL merely containing the simulator's address is not the simulator.
      { DISCORD_BOT_TOKEN: TOKEN, DISCORD_CHANNEL_ID: '123456789012345678', DISCORD_API_URL: 'https://evil.example.org/127.0.0.1/api' },
    ]) {
      expect(() => runtime(vars), JSON.stringify(vars)).toThrow(EnvError);
      expect(() => runtime(vars)).toThrow(/DISCORD_PUBLIC_KEY: is required/);
    }
  });

  it('needs the channel too outside simulator mode, and names every missing variable at once', () => {
    try {
      runtime({ NODE_ENV: 'production', DISCORD_BOT_TOKEN: TOKEN });
      expect.unreachable();
    } catch (err) {
      const message = (err as Error).message;
      expect(message).toMatch(/DISCORD_PUBLIC_KEY/);
      expect(message).toMatch(/DISCORD_CHANNEL_ID/);
      expect(message).toMatch(/APP_BASE_URL: is required in production/);
      expect(message).not.toContain(TOKEN);
    }
  });

  it('talks to the real Discord with a token, a key and a channel', () => {
    const { discord } = runtime({ DISCORD_BOT_TOKEN: TOKEN, DISCORD_PUBLIC_KEY: KEY, DISCORD_CHANNEL_ID: '123456789012345678' });
    expect(discord).toEqual({ botToken: TOKEN, apiUrl: 'https://discord.com/api', channelId: '123456789012345678', publicKey: KEY, simulated: false });
  });

  it('treats a token with an API URL on this machine as the simulator (tests, benchmarks)', () => {
    expect(runtime({ DISCORD_BOT_TOKEN: TOKEN, DISCORD_API_URL: 'http://127.0.0.1:4999/api' }).discord.simulated).toBe(true);
  });

  it('requires APP_BASE_URL in production, even with the simulator', () => {
    expect(() => runtime({ NODE_ENV: 'production' })).toThrow(/APP_BASE_URL: is required in production/);
    expect(runtime({ NODE_ENV: 'production', APP_BASE_URL: 'https://flipfix.example.org/' }).baseUrl).toBe('https://flipfix.example.org');
  });
});

describe('APP_BASE_URL', () => {
  it('is normalized to RFC 3986, and refused with a query, a fragment or credentials', () => {
    expect(parseEnv(BaseEnv, { APP_BASE_URL: 'https://flipfix.example.org/a|b/' }).APP_BASE_URL).toBe('https://flipfix.example.org/a%7Cb');
    for (const bad of ['https://flipfix.example.org/?x=1', 'https://flipfix.example.org/#top', 'https://u:p@flipfix.example.org', 'ftp://flipfix.example.org', 'flipfix']) {
      expect(() => parseEnv(BaseEnv, { APP_BASE_URL: bad }), bad).toThrow(/APP_BASE_URL: /);
    }
  });
});

describe('loadDevToken', () => {
  it('creates a private token file once and returns the same token afterwards', () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'flipfix-token-')), 'nested', '.admin-token');
    const first = loadDevToken(file);
    expect(first).toMatch(/^[\w-]{32}$/);
    expect(statSync(file).mode & 0o077).toBe(0);
    expect(loadDevToken(file)).toBe(first);
    expect(readFileSync(file, 'utf8').trim()).toBe(first);
    writeFileSync(file, 'short\n');
    expect(loadDevToken(file)).not.toBe('short');
  });
});

describe('startupProblem', () => {
  it('is the message of an environment error, else one line without a stack', () => {
    expect(startupProblem(new EnvError('Invalid environment:\n  PORT: bad'))).toBe('Invalid environment:\n  PORT: bad');
    const err = new Error('boom\nmore');
    expect(startupProblem(err)).toBe('could not start: boom');
  });
});
