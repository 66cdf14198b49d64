import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EnvError, parseEnv } from '@flipfix/config';
import { resolveAdminToken, WebEnv } from './env';

describe('WebEnv', () => {
  it('has working defaults in development', () => {
    const env = parseEnv(WebEnv, {});
    expect(env.PORT).toBe(3000);
    expect(env.ADMIN_TOKEN).toBeUndefined();
    expect(env.TRUST_PROXY).toBe(false);
    const admin = resolveAdminToken(env);
    expect(admin.generated).toBe(true);
    expect(admin.token.length).toBeGreaterThanOrEqual(16);
  });

  it('requires an ADMIN_TOKEN of at least 32 characters in production', () => {
    expect(() => parseEnv(WebEnv, { NODE_ENV: 'production' })).toThrow(/ADMIN_TOKEN: is required in production/);
    expect(() => parseEnv(WebEnv, { NODE_ENV: 'production', ADMIN_TOKEN: 'a'.repeat(31) })).toThrow(/ADMIN_TOKEN: must be at least 32 characters in production/);
    const token = 'a-long-enough-production-admin-token';
    const env = parseEnv(WebEnv, { NODE_ENV: 'production', ADMIN_TOKEN: token });
    expect(resolveAdminToken(env)).toEqual({ token, generated: false });
  });

  it('keeps the development token in a file, so it survives a restart', () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'flipfix-web-')), '.admin-token');
    const first = resolveAdminToken(parseEnv(WebEnv, {}), file);
    expect(first.generated).toBe(true);
    expect(resolveAdminToken(parseEnv(WebEnv, {}), file)).toEqual(first);
  });

  it('refuses a short admin token and a bad port, naming each variable', () => {
    try {
      parseEnv(WebEnv, { ADMIN_TOKEN: 'short', PORT: 'eighty' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(EnvError);
      expect((err as Error).message).toMatch(/ADMIN_TOKEN: must be at least 16 characters/);
      expect((err as Error).message).toMatch(/PORT:/);
    }
  });

  it('treats an empty ADMIN_TOKEN as unset', () => {
    expect(() => parseEnv(WebEnv, { NODE_ENV: 'production', ADMIN_TOKEN: '' })).toThrow(/required in production/);
  });

  it('parses TRUST_PROXY as a boolean, a hop count or an address list', () => {
    // `true` is one proxy, not "every hop": the left-most X-Forwarded-For entry is the client's to write.
    expect(parseEnv(WebEnv, { TRUST_PROXY: 'true' }).TRUST_PROXY).toBe(1);
    expect(parseEnv(WebEnv, { TRUST_PROXY: '2' }).TRUST_PROXY).toBe(2);
    expect(parseEnv(WebEnv, { TRUST_PROXY: 'loopback' }).TRUST_PROXY).toBe('loopback');
  });
});
