/**
 * `npm run sim`: the simulator on DISCORD_SIM_PORT (4100), accepting
 * DISCORD_BOT_TOKEN and creating DISCORD_CHANNEL_ID, each with a development default.
 */
import { fileURLToPath } from 'node:url';
import { PortSchema, parseEnv, SIM_DEFAULTS, SnowflakeSchema, z } from '@flipfix/config';
import { createLogger, shouldColorize } from '@flipfix/logger';
import { startSimulator } from './index';

const Env = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DISCORD_SIM_PORT: PortSchema.default(SIM_DEFAULTS.port),
  DISCORD_SIM_HOST: z.string().min(1).default('127.0.0.1'),
  DISCORD_BOT_TOKEN: z.string().min(1).default(SIM_DEFAULTS.botToken),
  DISCORD_CHANNEL_ID: SnowflakeSchema.default(SIM_DEFAULTS.channelId),
  PORT: PortSchema.default(3000),
  /**
   * The file that keeps channels, messages and webhooks across restarts;
   * `off` keeps them in memory only. Default: apps/discord-sim/.data/state.json (git-ignored).
   */
  DISCORD_SIM_STATE_FILE: z.string().min(1).default(fileURLToPath(new URL('../.data/state.json', import.meta.url))),
  /** Where button clicks go; defaults to the web app's interactions endpoint. */
  DISCORD_SIM_INTERACTIONS_URL: z.url({ protocol: /^https?$/ }).optional(),
});

const SHUTDOWN_DEADLINE_MS = 5000;

async function main(): Promise<void> {
  const env = parseEnv(Env);
  const log = createLogger({
    name: 'discord-sim',
    level: env.LOG_LEVEL,
    // Formatted like the web app's and the worker's lines (also under `npm start`, which pipes them).
    pretty: env.NODE_ENV === 'development',
    colorize: shouldColorize(process.stdout, process.env),
    secrets: [env.DISCORD_BOT_TOKEN],
  });
  const sim = await startSimulator({
    port: env.DISCORD_SIM_PORT,
    host: env.DISCORD_SIM_HOST,
    token: env.DISCORD_BOT_TOKEN,
    channelId: env.DISCORD_CHANNEL_ID,
    interactionsUrl: env.DISCORD_SIM_INTERACTIONS_URL ?? `http://127.0.0.1:${env.PORT}/discord/interactions`,
    onError: (err) => log.error({ err }, 'simulator error'),
    ...(env.DISCORD_SIM_STATE_FILE === 'off' ? {} : { stateFile: env.DISCORD_SIM_STATE_FILE }),
  });
  log.info(
    { viewer: `${sim.url}/`, api: sim.apiUrl, channelId: sim.channelId, stateFile: env.DISCORD_SIM_STATE_FILE === 'off' ? null : env.DISCORD_SIM_STATE_FILE },
    'discord simulator listening',
  );

  let stopping: Promise<void> | undefined;
  const shutdown = (signal: string): Promise<void> => {
    stopping ??= (async () => {
      log.info({ signal }, 'discord simulator stopping');
      const deadline = setTimeout(() => {
        log.warn('shutdown deadline passed, exiting');
        process.exit(1);
      }, SHUTDOWN_DEADLINE_MS);
      deadline.unref();
      await sim.close();
      clearTimeout(deadline);
      log.info('discord simulator stopped');
      process.exit(0);
    })();
    return stopping;
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
