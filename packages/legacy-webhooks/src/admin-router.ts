/**
 * The admin JSON API of the legacy path, mounted by the web app at
 * `/api/admin` BEHIND its admin authentication (Bearer token or console
 * session + CSRF). This router checks no credentials itself:
 *
 *   app.use('/api/admin', auth.loadSession(), auth.requireApi(), createWebhookAdminRouter({...}))
 *
 * Routes (relative to the mount point):
 *   GET    /webhook-endpoints            list (URLs masked)
 *   POST   /webhook-endpoints            {name, url, enabled?, events: [...]} → 201
 *   PATCH  /webhook-endpoints/:id        any of the same fields
 *   DELETE /webhook-endpoints/:id        → 204
 *   POST   /webhook-endpoints/:id/test   {eventType?} → the test post's result
 *   GET    /rollout?since=<ISO time>     the parity report
 *
 * Errors use the web app's shape: `{error: 'invalid_request', message,
 * fields: {field: reason}}` (400), `{error: 'not_found', message}` (404),
 * `{error: 'conflict', message, fields}` (409). No answer and no log line
 * carries a webhook URL's token.
 */
import { fieldsOf } from '@flipfix/config';
import type { REST } from '@discordjs/rest';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import { isAppError, type PrismaClient } from '@flipfix/db';
import { EVENT_TYPES } from '@flipfix/events';
import type { Logger } from '@flipfix/logger';
import {
  createWebhookEndpoint,
  deleteWebhookEndpoint,
  getWebhookEndpoint,
  listWebhookEndpoints,
  updateWebhookEndpoint,
} from './endpoints';
import { rolloutReport } from './parity';
import { sendWebhookTestMessage } from './test-message';
import type { WebhookUrlRules } from './validation';

/** Dependencies of {@link createWebhookAdminRouter}. */
export interface WebhookAdminDeps extends WebhookUrlRules {
  prisma: PrismaClient;
  log: Logger;
  /**
   * REST client for test messages (requests go out with `auth: false`, so the
   * bot's client may be passed). Without it the test route answers 503.
   */
  webhookRest?: REST | undefined;
  /** Base for links in test posts (APP_BASE_URL). Default `http://localhost:3000`. */
  baseUrl?: string | undefined;
}

const TestBody = z.strictObject({ eventType: z.enum(EVENT_TYPES, { error: `must be one of ${EVENT_TYPES.join(', ')}` }).optional() });
const RolloutQuery = z.object({
  since: z.iso
    .datetime({ offset: true, error: 'must be an ISO 8601 date-time' })
    // Year 0000 parses, but the database refuses it: a 400 here instead of a 500 there.
    .refine((v) => new Date(v).getUTCFullYear() >= 1970, 'must be in 1970 or later')
    .optional(),
});

type Handler = (req: Request, res: Response) => Promise<void>;

/** Maps the errors this API knows to its answers; anything else goes to the app's error middleware. */
function handle(fn: Handler) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    try {
      await fn(req, res);
    } catch (err) {
      if (err instanceof z.ZodError) {
        const fields = fieldsOf(err);
        const [first] = Object.entries(fields);
        res.status(400).json({ error: 'invalid_request', message: first ? `${first[0]}: ${first[1]}` : 'invalid request', fields });
        return;
      }
      if (isAppError(err)) {
        const fields = err.field ? { fields: { [err.field]: err.message } } : {};
        if (err.code === 'not_found') res.status(404).json({ error: 'not_found', message: err.message });
        else if (err.code === 'conflict') res.status(409).json({ error: 'conflict', message: err.message, ...fields });
        else res.status(400).json({ error: 'invalid_request', message: err.message, ...fields });
        return;
      }
      next(err);
    }
  };
}

function bodyOf(req: Request): unknown {
  return req.body === undefined ? {} : req.body;
}

/** The legacy path's admin routes; see the module comment for mounting and auth. */
export function createWebhookAdminRouter(deps: WebhookAdminDeps): Router {
  const r = express.Router();
  const rules: WebhookUrlRules = deps.allowDevelopmentUrls === undefined ? {} : { allowDevelopmentUrls: deps.allowDevelopmentUrls };
  const log = deps.log.child({ module: 'legacy-webhooks' });
  // Parsed here too so the router works on its own; a body the app already parsed is left alone.
  r.use('/webhook-endpoints', express.json({ limit: '64kb' }));

  r.get(
    '/webhook-endpoints',
    handle(async (_req, res) => {
      res.json({ items: await listWebhookEndpoints(deps.prisma) });
    }),
  );
  r.post(
    '/webhook-endpoints',
    handle(async (req, res) => {
      const endpoint = await createWebhookEndpoint(deps.prisma, bodyOf(req), rules);
      log.info({ endpointId: endpoint.id, webhookId: endpoint.webhookId, events: endpoint.events }, 'webhook endpoint created');
      res.status(201).json(endpoint);
    }),
  );
  r.get(
    '/webhook-endpoints/:id',
    handle(async (req, res) => {
      res.json(await getWebhookEndpoint(deps.prisma, String(req.params.id)));
    }),
  );
  r.patch(
    '/webhook-endpoints/:id',
    handle(async (req, res) => {
      const endpoint = await updateWebhookEndpoint(deps.prisma, String(req.params.id), bodyOf(req), rules);
      log.info({ endpointId: endpoint.id, enabled: endpoint.enabled, events: endpoint.events }, 'webhook endpoint updated');
      res.json(endpoint);
    }),
  );
  r.delete(
    '/webhook-endpoints/:id',
    handle(async (req, res) => {
      await deleteWebhookEndpoint(deps.prisma, String(req.params.id));
      log.info({ endpointId: req.params.id }, 'webhook endpoint deleted');
      res.status(204).end();
    }),
  );
  r.post(
    '/webhook-endpoints/:id/test',
    handle(async (req, res) => {
      const { eventType } = TestBody.parse(bodyOf(req));
      const id = String(req.params.id);
      await getWebhookEndpoint(deps.prisma, id);
      if (!deps.webhookRest) {
        res.status(503).json({ error: 'unavailable', message: 'No Discord client is configured for test messages' });
        return;
      }
      const result = await sendWebhookTestMessage(
        { db: deps.prisma, rest: deps.webhookRest, baseUrl: deps.baseUrl ?? 'http://localhost:3000', log },
        id,
        eventType,
      );
      res.json(result);
    }),
  );
  r.get(
    '/rollout',
    handle(async (req, res) => {
      const q = RolloutQuery.parse(req.query);
      res.set('cache-control', 'no-store').json(await rolloutReport(deps.prisma, q.since ? { since: new Date(q.since) } : {}));
    }),
  );
  return r;
}
