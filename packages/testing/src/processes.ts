/**
 * Running Debian's server binaries (redis-server, redis-sentinel, pgbouncer)
 * for tests: loopback ports chosen free at run time, a scratch directory per
 * rig, and stopping exactly the processes a rig started.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * A loopback port nobody listens on right now. The kernel picks it (port 0),
 * so parallel test files never collide on a fixed number.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** One server process a rig started. */
export interface ServerProcess {
  port: number;
  child: ChildProcess;
  /** Its last output lines, for a failure message. */
  output: string[];
  /** Resolves when it has exited. */
  exited: Promise<void>;
  /** Sends `signal` (default SIGKILL) and waits for the exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts `command args` and keeps its output; does not wait for readiness. */
export function startServer(command: string, args: string[], port: number, cwd: string): ServerProcess {
  const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  const keep = (chunk: Buffer) => {
    output.push(...chunk.toString().split('\n').filter(Boolean));
    if (output.length > 100) output.splice(0, output.length - 100);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  // If the test process dies first, its servers die with it (only the ones this rig started).
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else
      child.once('exit', () => {
        process.removeListener('exit', killOnExit);
        resolve();
      });
  });
  child.once('error', (err) => output.push(String(err)));
  return {
    port,
    child,
    output,
    exited,
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

/** A scratch directory for one rig (config files, cluster state). */
export function scratchDir(name: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), `flipfix-${name}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
