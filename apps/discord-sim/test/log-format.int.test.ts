/**
 * The simulator's log lines under `npm start` (output piped, development):
 * formatted like the web app's and the worker's, and without ANSI colour
 * codes unless asked for, so log files stay plain text.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const main = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../src/main.ts');

/** Starts the simulator with `env`, returns its first log line, then stops it with SIGTERM. */
async function firstLine(env: Record<string, string>): Promise<{ line: string; code: number | null }> {
  const child = spawn(process.execPath, ['--import', 'tsx', main], {
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'development', DISCORD_SIM_PORT: '0', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  let output = '';
  const line = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (c: Buffer) => {
      output += c.toString();
      const first = output.split('\n').find((l) => l.includes('listening'));
      if (first !== undefined) resolve(first);
    });
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.once('exit', (code) => reject(new Error(`simulator exited (${code}): ${output}`)));
  });
  child.kill('SIGTERM');
  return { line, code: await exited };
}

describe('simulator log lines', () => {
  it('are one readable line like the other processes’, with no colour codes on a pipe', async () => {
    const { line, code } = await firstLine({});
    expect(line).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO \(discord-sim\): discord simulator listening/);
    expect(line).not.toContain('\x1b[');
    expect(code).toBe(0);
  });

  it('carry colours when FORCE_COLOR asks for them (npm start on a terminal)', async () => {
    const { line } = await firstLine({ FORCE_COLOR: '1' });
    expect(line).toContain('\x1b[');
  });
});
