import pg from 'pg';

/** A LISTEN connection that records every notification on a channel. */
export interface Listener {
  payloads: string[];
  /** Resolves with the first payload (already received or future) that matches. */
  next(match?: (payload: string) => boolean, timeoutMs?: number): Promise<string>;
  /** Resolves once `count` notifications in all have arrived. */
  received(count: number, timeoutMs?: number): Promise<void>;
  /** Resolves once no notification has arrived for `quietMs`. */
  quiet(quietMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function listen(url: string, channel: string): Promise<Listener> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const payloads: string[] = [];
  const waiters: { match: (p: string) => boolean; resolve: (p: string) => void }[] = [];
  client.on('notification', (n) => {
    if (n.channel !== channel) return;
    const payload = n.payload ?? '';
    payloads.push(payload);
    for (const w of [...waiters]) {
      if (w.match(payload)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(payload);
      }
    }
  });
  await client.query(`LISTEN ${channel}`);
  return {
    payloads,
    next(match = () => true, timeoutMs = 5000) {
      const seen = payloads.find(match);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no NOTIFY on ${channel} within ${timeoutMs} ms`)), timeoutMs);
        waiters.push({
          match,
          resolve: (p) => {
            clearTimeout(timer);
            resolve(p);
          },
        });
      });
    },
    async received(count, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (payloads.length < count) {
        if (Date.now() > deadline) throw new Error(`${payloads.length} NOTIFYs on ${channel} within ${timeoutMs} ms, expected ${count}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    async quiet(quietMs = 200) {
      let seen = -1;
      while (seen !== payloads.length) {
        seen = payloads.length;
        await new Promise((r) => setTimeout(r, quietMs));
      }
    },
    close: () => client.end(),
  };
}

/** The development server, or DATABASE_URL when set (CI). */
export const baseUrl = process.env.DATABASE_URL;
