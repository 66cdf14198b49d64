/**
 * Reaching Postgres and Redis at start. A process whose services are down
 * should say so in one line (which service, at which address, what to do),
 * try again a few times with growing pauses, and then stop with that line,
 * instead of printing a stack trace per reconnect. The probes themselves live
 * with their clients (`probePostgres` in @flipfix/db, `probeRedis` in
 * @flipfix/queue); this module only retries, words and reports them.
 */

/** One service to reach at start. */
export interface ServiceCheck {
  /** `Postgres`, `Redis`. */
  service: string;
  /** Where, without a password (see {@link redactUrl}). */
  address: string;
  /** What to do about it, e.g. `start Redis or set REDIS_URL`. */
  hint: string;
  /** Resolves once the service answers; rejects with the client's error. */
  probe: () => Promise<void>;
}

/** Options for {@link waitForServices}. */
export interface WaitForServicesOptions {
  /** Tries per service before giving up. */
  attempts: number;
  /** Pause before the second try; doubles each time, at most 8 times this. */
  backoffMs: number;
  /** Receives one line per failed try (the caller logs it). */
  report: (line: string) => void;
}

/** Thrown by {@link waitForServices}; its message is the one line to print before exiting. */
export class StartupError extends Error {
  override name = 'StartupError';
}

/** A connection URL with its password masked: `postgresql://user:***@host/db`. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}

/** A client's connection error in a few words (never its stack, never a password). */
export function describeConnectError(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown; errors?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host not found';
    case 'ETIMEDOUT':
    case 'ETIMEOUT':
      return 'timed out';
    case 'ECONNRESET':
      return 'connection reset';
    case '28P01':
    case '28000':
      return 'password or user rejected';
    case '3D000':
      return 'the database does not exist (npm run db:migrate creates it)';
  }
  // AggregateError (IPv4 and IPv6 both refused) carries the codes on its parts.
  if (Array.isArray(e?.errors) && e.errors.length > 0) return describeConnectError(e.errors[0]);
  const message = typeof e?.message === 'string' ? e.message : String(err);
  if (/WRONGPASS|NOAUTH|invalid password/i.test(message)) return 'password rejected';
  if (/timeout|timed out/i.test(message)) return 'timed out';
  // The first line only, addresses with passwords masked, bounded.
  return redactUrl(message.split('\n')[0] ?? '').slice(0, 200) || 'unreachable';
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Probes each service until it answers, up to `attempts` tries each with a
 * doubling pause, reporting one line per failed try. Throws a
 * {@link StartupError} whose message is the final line when one never answers.
 */
export async function waitForServices(checks: readonly ServiceCheck[], options: WaitForServicesOptions): Promise<void> {
  for (const check of checks) {
    for (let attempt = 1; ; attempt++) {
      try {
        await check.probe();
        break;
      } catch (err) {
        const what = `${check.service} at ${check.address} did not answer: ${describeConnectError(err)}`;
        if (attempt >= options.attempts) {
          throw new StartupError(`${what} (${attempt} attempt${attempt === 1 ? '' : 's'}); ${check.hint}.`);
        }
        const delay = Math.min(options.backoffMs * 2 ** (attempt - 1), options.backoffMs * 8);
        options.report(`${what}; ${check.hint}. Trying again in ${formatDelay(delay)} (attempt ${attempt} of ${options.attempts}).`);
        await sleep(delay);
      }
    }
  }
}

function formatDelay(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Math.round(ms / 100) / 10} s`;
}
