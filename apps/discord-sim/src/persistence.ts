/**
 * Keeps the simulator's channels, messages and webhooks in a JSON file, so a
 * restart of `npm start` does not wipe what the viewer showed, nor the
 * webhook URLs an admin pasted into the console. The file is read once at
 * start and written (to a temporary file, then renamed, so a crash never
 * leaves half a file) at most once a second while the state changes, and
 * once more at close. Faults, counters, rate-limit windows and nonces are not
 * kept: they describe a run, not the guild.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { SavedWorld, SimState } from './state';

/** The file format's version; a file of another version is ignored, not misread. */
const FORMAT = 1;

/** Saving in progress for one state and file. */
export interface StateFile {
  /** The file's path. */
  path: string;
  /** Whether the world came from the file (false: the file was missing or unreadable). */
  restored: boolean;
  /** Writes now if anything changed since the last write. */
  flush(): void;
  /** Stops the timer and writes a last time. */
  close(): void;
}

/** Reads `path` into `state` (when it holds a saved world) and keeps it written as the state changes. */
export function keepStateInFile(state: SimState, path: string, options: { intervalMs?: number; onError?: ((err: unknown) => void) | undefined } = {}): StateFile {
  let restored = false;
  try {
    const saved = JSON.parse(readFileSync(path, 'utf8')) as { format?: number; world?: SavedWorld };
    if (saved.format === FORMAT && saved.world !== undefined) {
      state.restore(saved.world);
      restored = true;
    }
  } catch (err) {
    // A missing file is the first run; anything else is reported and the run starts empty.
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') options.onError?.(err);
  }
  let written = state.version;
  const flush = () => {
    if (state.version === written) return;
    try {
      mkdirSync(dirname(path), { recursive: true });
      const temporary = `${path}.${process.pid}.tmp`;
      writeFileSync(temporary, JSON.stringify({ format: FORMAT, savedAt: new Date().toISOString(), world: state.dump() }));
      renameSync(temporary, path);
      written = state.version;
    } catch (err) {
      options.onError?.(err);
    }
  };
  const timer = setInterval(flush, options.intervalMs ?? 1000);
  timer.unref();
  return {
    path,
    restored,
    flush,
    close() {
      clearInterval(timer);
      flush();
    },
  };
}
