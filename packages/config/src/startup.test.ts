import { describe, expect, it } from 'vitest';
import { describeConnectError, redactUrl, StartupError, waitForServices } from './startup';

const refused = () => Promise.reject(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6390\n    at TCPConnectWrap'), { code: 'ECONNREFUSED' }));

describe('waitForServices', () => {
  it('reports one line per failed try, then throws one line naming the service, address and what to do', async () => {
    const lines: string[] = [];
    const attempt = waitForServices([{ service: 'Redis', address: 'redis://127.0.0.1:6390', hint: 'start Redis or set REDIS_URL', probe: refused }], {
      attempts: 3,
      backoffMs: 1,
      report: (line) => lines.push(line),
    });
    await expect(attempt).rejects.toThrow(StartupError);
    await expect(attempt).rejects.toThrow('Redis at redis://127.0.0.1:6390 did not answer: connection refused (3 attempts); start Redis or set REDIS_URL.');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe('Redis at redis://127.0.0.1:6390 did not answer: connection refused; start Redis or set REDIS_URL. Trying again in 1 ms (attempt 1 of 3).');
    expect(lines[1]).toContain('Trying again in 2 ms (attempt 2 of 3)');
    expect(lines.join('\n')).not.toMatch(/\n\s+at /);
  });

  it('goes on once the service answers', async () => {
    let calls = 0;
    const lines: string[] = [];
    await waitForServices(
      [{ service: 'Postgres', address: 'x', hint: 'h', probe: async () => (++calls < 3 ? refused() : undefined) }],
      { attempts: 5, backoffMs: 1, report: (line) => lines.push(line) },
    );
    expect(calls).toBe(3);
    expect(lines).toHaveLength(2);
  });
});

describe('describeConnectError', () => {
  it('says why in a few words, without stacks or passwords', () => {
    expect(describeConnectError({ code: 'ENOTFOUND' })).toBe('host not found');
    expect(describeConnectError({ code: '28P01', message: 'password authentication failed' })).toBe('password or user rejected');
    expect(describeConnectError(new AggregateError([Object.assign(new Error('x'), { code: 'ECONNREFUSED' })]))).toBe('connection refused');
    expect(describeConnectError(new Error('WRONGPASS invalid username-password pair'))).toBe('password rejected');
    expect(describeConnectError(new Error('failed for postgresql://u:secret@h/db\n    at x'))).toBe('failed for postgresql://u:***@h/db');
  });

  it('redactUrl masks only the password', () => {
    expect(redactUrl('postgresql://postgres:hunter2@db:5432/flipfix')).toBe('postgresql://postgres:***@db:5432/flipfix');
    expect(redactUrl('redis://:pw@redis:6379')).toBe('redis://:***@redis:6379');
    expect(redactUrl('redis://redis:6379')).toBe('redis://redis:6379');
  });
});
