/**
 * `npm run bench:rest`: posts to one channel of the simulator (its own
 * process, rate limits off) through 1, 4 and 8 @discordjs/rest clients on
 * one connection pool, as the worker's fast lane does. @discordjs/rest sends
 * one bucket's requests one after another; this shows what spreading them
 * over several clients buys.
 *
 *   npm run bench:rest                              # 10,000 posts per run, clients 1,4,8
 *   npm run bench:rest -- --posts 3000 --clients 1,16
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { RESTPostAPIChannelMessageJSONBody } from 'discord-api-types/v10';
import { SIM_DEFAULTS } from '@flipfix/config';
import { createDiscordRestPool, postMessage } from '@flipfix/discord';
import { formatTable, type Metric, ROOT } from './lib';

const { values: args } = parseArgs({
  options: {
    posts: { type: 'string', default: '10000' },
    clients: { type: 'string', default: '1,4,8' },
    port: { type: 'string', default: '4199' },
  },
});
const posts = Number(args.posts);
const clientCounts = (args.clients ?? '1,4,8').split(',').map(Number);
const port = Number(args.port);
const apiUrl = `http://127.0.0.1:${port}/api`;
/** Requests kept waiting per process, as a worker's few deliver-many jobs keep. */
const IN_FLIGHT = 64;

const body: RESTPostAPIChannelMessageJSONBody = {
  embeds: [
    {
      title: 'Log entry on Attack from Mars',
      description: 'Replaced the left flipper coil and rebuilt the flipper. '.repeat(4),
      url: 'http://flipfix.bench/log-entries/1',
      color: 3447003,
      fields: [{ name: 'Maintainers', value: 'Ada, Grace', inline: true }],
    },
  ],
  allowed_mentions: { parse: [] },
};

async function main(): Promise<void> {
  const sim = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'apps/discord-sim/src/main.ts')], {
    cwd: ROOT,
    // No state file: writing the world to disk would compete with the requests being measured.
    env: { ...process.env, DISCORD_SIM_PORT: String(port), LOG_LEVEL: 'warn', NODE_ENV: 'test', DISCORD_SIM_STATE_FILE: 'off' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    await waitForSim();
    // The simulator starts with Discord's limits; this measures the client, so they go.
    const configured = await fetch(`http://127.0.0.1:${port}/_sim/config`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ rateLimits: { perChannel: null, global: null, perRoute: null } }),
    });
    if (!configured.ok) throw new Error(`simulator config: ${configured.status}`);
    const metrics: Metric[] = [];
    for (const n of clientCounts) {
      const clients = createDiscordRestPool({ token: SIM_DEFAULTS.botToken, apiUrl }, n);
      let next = 0;
      const started = Date.now();
      const cpu = process.cpuUsage();
      await Promise.all(
        Array.from({ length: IN_FLIGHT }, async () => {
          while (next < posts) {
            const i = next++;
            await postMessage(clients[i % n]!, SIM_DEFAULTS.channelId, body, { nonce: `b${started}-${i}` });
          }
        }),
      );
      const ms = Date.now() - started;
      const used = process.cpuUsage(cpu);
      const name = `${n} client${n > 1 ? 's' : ''}`;
      metrics.push(
        { scenario: name, metric: 'posts/s', value: Math.round((posts / ms) * 1000), note: `${posts} posts in ${ms} ms` },
        { scenario: name, metric: 'client CPU per post', value: (used.user + used.system) / 1000 / posts, unit: 'ms' },
      );
    }
    process.stdout.write(`${formatTable(metrics)}\n`);
  } finally {
    sim.kill('SIGTERM');
  }
}

async function waitForSim(): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/_sim/config`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('the simulator did not start');
}

await main();
