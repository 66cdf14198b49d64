/**
 * The web app: the domain JSON API, human pages, the admin console and API,
 * `/health` and `/metrics`. `createApp` takes every dependency; it reads no
 * environment and opens no connection of its own (main.ts wires it).
 */
import type { REST } from '@discordjs/rest';
import type { Queue } from 'bullmq';
import { createInteractionsRouter } from '@flipfix/bot-features';
import { createWebhookAdminRouter } from '@flipfix/legacy-webhooks';
import express from 'express';
import helmet from 'helmet';
import type { RedisConnection as Redis } from '@flipfix/queue';
import type { Db } from '@flipfix/db';
import { TEST_IMAGE_PATH } from '@flipfix/discord';
import type { EntityType } from '@flipfix/events';
import type { Logger } from '@flipfix/logger';
import type { QUEUES, RetryPolicy } from '@flipfix/queue';
import { AdminAuth, type AuthFailureLimit } from './admin/auth';
import { adminConsoleRouter } from './admin/console';
import { HealthService } from './health';
import { countInvalidRequests, InvalidRequestBrake } from '@flipfix/engine';
import { errorHandler, notFound, requestId } from './http/errors';
import { inputGuard } from './http/input-guard';
import { WebMetrics } from './metrics';
import { adminApiRouter } from './routes/admin-api';
import { apiRouter } from './routes/api';
import { pagesRouter } from './routes/pages';
import { CSS } from './views/pages-common';
import { testImagePng } from './views/test-image';

/** Settings the app needs, resolved by the entry point. */
export interface WebConfig {
  /** The admin password / Bearer token. */
  adminToken: string;
  /** Absolute base for links (APP_BASE_URL). */
  baseUrl: string;
  /** Default channel until settings name one (DISCORD_CHANNEL_ID). */
  defaultChannelId: string;
  /** Guild id for message links (`https://discord.com/channels/<guild>/<channel>/<message>`). */
  guildId?: string | undefined;
  /** Base of the simulator's viewer, when running against it: message links point there. */
  simulatorUrl?: string | undefined;
  /** Redis key prefix for sessions and login counters; also the BullMQ prefix shown by the dashboard. */
  keyPrefix: string;
  /** The workers' invalid-request brake threshold, when not the default (tests). */
  brakeThreshold?: number | undefined;
  /** Express `trust proxy`. */
  trustProxy?: boolean | number | string | undefined;
  /** Force `Secure` cookies. */
  secureCookies?: boolean | undefined;
  sessionTtlSeconds?: number | undefined;
  /** Wrong admin tokens allowed per client and in total per window (default 10 and 100 per 15 min). */
  authFailureLimit?: AuthFailureLimit | undefined;
  /** Discord probe cache. Default 5000 ms. */
  discordCacheMs?: number | undefined;
  /** Retry policy for redelivered jobs. */
  retry?: RetryPolicy | undefined;
  /**
   * Accept webhook URLs on hosts other than discord.com (the simulator's).
   * Default false: only when the app talks to the simulator does the entry
   * point turn it on, so production accepts Discord's webhook URLs only.
   */
  allowDevelopmentWebhookUrls?: boolean | undefined;
  /**
   * The page a record's events link to in the console. Default: our own
   * record pages; with another app's database (SOURCE=flipfix), that app's.
   */
  recordUrl?: ((entityType: EntityType, id: number) => string) | undefined;
}

/** Everything the app uses. */
export interface AppDeps {
  db: Db;
  redis: Redis;
  queues: Record<keyof typeof QUEUES, Queue>;
  log: Logger;
  config: WebConfig;
  /** Bot REST client (Discord checks on /health, test messages). Without it those features say so. */
  discordRest?: REST | undefined;
  /**
   * The bot token behind `discordRest`. @discordjs/rest forgets its token
   * after a 401 (to avoid Cloudflare bans); with this the app sets it again
   * before each probe, so /health recovers once Discord accepts the token.
   */
  discordToken?: string | undefined;
  /** Discord interactions (buttons): the Ed25519 public key and the REST base for follow-ups. */
  interactions?: { publicKey: string; discordApiUrl: string } | undefined;
  /**
   * Queues beyond the shared catalog (`openAllQueues`, which has the digest
   * queue too) that the job dashboard, /health and /metrics show as well.
   * The caller opens and closes them.
   */
  dashboardQueues?: readonly Queue[] | undefined;
  /**
   * Serve the domain JSON API and the record pages (default true). Off when
   * attached to another app's database (SOURCE=flipfix): that app has its own
   * forms and pages, and `/` leads to the console.
   */
  domain?: boolean | undefined;
}

/** Builds the Express application. */
export function createApp(deps: AppDeps): express.Application {
  const { db, redis, queues, log, config } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.trustProxy ?? false);

  // The workers count Discord's invalid answers under the same prefix; the probes below count too.
  const brake = new InvalidRequestBrake({ redis, prefix: config.keyPrefix, ...(config.brakeThreshold ? { threshold: config.brakeThreshold } : {}) });
  if (deps.discordRest) countInvalidRequests(deps.discordRest, brake, (err) => log.warn({ err }, 'could not count an invalid request'));
  const health = new HealthService({
    db,
    redis,
    queues,
    brake,
    extraQueues: deps.dashboardQueues,
    discordRest: deps.discordRest,
    discordToken: deps.discordToken,
    defaultChannelId: config.defaultChannelId,
    ...(config.discordCacheMs === undefined ? {} : { discordCacheMs: config.discordCacheMs }),
  });
  const metrics = new WebMetrics({ db, queues, extraQueues: deps.dashboardQueues });
  const auth = new AdminAuth({
    redis,
    adminToken: config.adminToken,
    keyPrefix: config.keyPrefix,
    ...(config.sessionTtlSeconds === undefined ? {} : { sessionTtlSeconds: config.sessionTtlSeconds }),
    ...(config.authFailureLimit === undefined ? {} : { authFailureLimit: config.authFailureLimit }),
    ...(config.secureCookies === undefined ? {} : { secureCookies: config.secureCookies }),
  });

  app.use(requestId());
  const secured = helmet({
    contentSecurityPolicy: {
      directives: {
        // Record photos are external thumbnails.
        'img-src': ["'self'", 'data:', 'https:', 'http:'],
        'form-action': ["'self'"],
      },
    },
  });
  // bull-board's UI bundles inline bootstrapping; it gets helmet without CSP, behind the same auth.
  const securedNoCsp = helmet({ contentSecurityPolicy: false });
  app.use((req, res, next) => (req.path.startsWith('/admin/queues') ? securedNoCsp(req, res, next) : secured(req, res, next)));

  app.get('/assets/app.css', (_req, res) => {
    res.type('css').set('cache-control', 'public, max-age=300').send(CSS);
  });

  const testImage = testImagePng();
  app.get(TEST_IMAGE_PATH, (_req, res) => {
    res.type('png').set('cache-control', 'public, max-age=86400').send(testImage);
  });

  app.get('/health', async (_req, res) => {
    const report = await health.check();
    // Only `down` is a 503: a degraded service still delivers and must not be restarted.
    res.status(report.status === 'down' ? 503 : 200).set('cache-control', 'no-store').json(report);
  });
  app.get('/metrics', async (_req, res) => {
    res.type(metrics.contentType).set('cache-control', 'no-store').send(await metrics.render());
  });

  // Signed interactions are verified over the raw body: mounted before any body parser.
  if (deps.interactions) {
    app.use(
      createInteractionsRouter({
        db,
        redis,
        log,
        publicKey: deps.interactions.publicKey,
        baseUrl: config.baseUrl,
        discordApiUrl: deps.interactions.discordApiUrl,
        keyPrefix: config.keyPrefix,
      }),
    );
  }

  app.use(express.json({ limit: '1mb' }));
  app.use(express.urlencoded({ extended: false, limit: '1mb' }));
  app.use(inputGuard());

  const onSettingsChanged = () => health.invalidate();
  app.use(
    '/admin',
    adminConsoleRouter({
      db,
      redis,
      queues,
      log,
      config,
      auth,
      health,
      discordRest: deps.discordRest,
      discordToken: deps.discordToken,
      dashboardQueues: deps.dashboardQueues ?? [],
      onSettingsChanged,
    }),
  );

  app.use(
    '/api/admin',
    auth.loadSession(),
    auth.requireApi(),
    adminApiRouter({ db, queues, ...(config.retry ? { retry: config.retry } : {}), onSettingsChanged }),
    // The legacy webhook path's endpoints and the rollout parity report.
    createWebhookAdminRouter({
      prisma: db.prisma,
      log,
      webhookRest: deps.discordRest,
      baseUrl: config.baseUrl,
      allowDevelopmentUrls: config.allowDevelopmentWebhookUrls ?? false,
    }),
  );
  if (deps.domain === false) {
    app.get('/', (_req, res) => res.redirect(302, '/admin'));
  } else {
    app.use('/api', apiRouter(db));
    app.use(pagesRouter(db));
  }

  app.use(notFound());
  app.use(errorHandler(log));
  return app;
}
