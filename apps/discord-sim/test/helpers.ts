import { DiscordAPIError, REST, type RESTOptions } from '@discordjs/rest';
import { startSimulator, type SimOptions, type Simulator } from '../src/index';

/** A simulator on a random port plus a @discordjs/rest client pointed at it. */
export async function setup(options: SimOptions = {}): Promise<{ sim: Simulator; rest: REST; client: (o?: Partial<RESTOptions>) => REST }> {
  const sim = await startSimulator({ port: 0, ...options });
  const client = (o: Partial<RESTOptions> = {}) =>
    new REST({
      api: sim.apiUrl,
      retries: 0,
      rejectOnRateLimit: () => true,
      // The client's own global limiter would hide the simulator's; tests set limits on the simulator.
      globalRequestsPerSecond: 1_000_000,
      ...o,
    }).setToken(sim.token);
  return { sim, rest: client(), client };
}

/** Flattens Discord's nested `errors` tree into `path:CODE` strings, e.g. `embeds.0.title:BASE_TYPE_MAX_LENGTH`. */
export function errorPaths(tree: unknown, prefix: string[] = []): string[] {
  if (typeof tree !== 'object' || tree === null) return [];
  const out: string[] = [];
  for (const [key, value] of Object.entries(tree)) {
    if (key === '_errors' && Array.isArray(value)) {
      for (const e of value as { code: string }[]) out.push(`${prefix.join('.')}:${e.code}`);
    } else out.push(...errorPaths(value, [...prefix, key]));
  }
  return out;
}

/** Awaits a request that must fail with a DiscordAPIError and returns it. */
export async function apiError(promise: Promise<unknown>): Promise<DiscordAPIError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof DiscordAPIError) return err;
    throw err;
  }
  throw new Error('expected the request to fail');
}
