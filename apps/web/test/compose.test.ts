/**
 * docker-compose.yml runs the apps with NODE_ENV=production, so it must not
 * ship an admin token: a forgotten .env would mean a publicly known one.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const compose = readFileSync(new URL('../../../docker-compose.yml', import.meta.url), 'utf8');

describe('docker-compose.yml', () => {
  it('refuses to start without ADMIN_TOKEN instead of using a default', () => {
    const line = compose.split('\n').find((l) => /^\s*ADMIN_TOKEN:/.test(l));
    expect(line).toBeDefined();
    // `${VAR:?message}`: compose stops with the message when VAR is unset or empty.
    expect(line).toMatch(/ADMIN_TOKEN: \$\{ADMIN_TOKEN:\?[^}]+\}/);
    expect(compose).not.toMatch(/ADMIN_TOKEN:-|change-me/);
  });
});
