/**
 * The control API under `/_sim` (JSON, no auth): tests, benchmarks and the
 * viewer use it to configure the simulator and inspect what it received.
 */
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import { ClickError } from './interactions';
import type { Simulator } from './simulator';

const snowflake = z.string().regex(/^\d{17,20}$/, 'must be a snowflake (17-20 digits)');
const rule = z.object({ limit: z.number().int().min(1), windowMs: z.number().int().min(1) }).nullable();
const filter = { method: z.string().optional(), path: z.string().optional(), channelId: snowflake.optional() };

const ChannelBody = z.object({
  id: snowflake.optional(),
  name: z.string().min(1).max(100).optional(),
  type: z.union([z.literal(0), z.literal(5), z.literal(11)]).optional(),
  permissions: z.object({ view: z.boolean().optional(), send: z.boolean().optional() }).optional(),
});
const WebhookBody = z.object({ channelId: snowflake, name: z.string().min(1).max(80).optional() });
const ConfigBody = z.object({
  tokens: z.array(z.string().min(1)).optional(),
  rateLimits: z.object({ perChannel: rule.optional(), global: rule.optional(), perRoute: rule.optional() }).optional(),
  interactionsUrl: z.url({ protocol: /^https?$/ }).nullable().optional(),
});
const FaultBody = z.object({
  latencyMs: z.number().int().min(0).max(60_000).optional(),
  fail: z
    .object({ count: z.number().int().min(1), status: z.union([z.literal(500), z.literal(502), z.literal(503)]).optional(), ...filter })
    .optional(),
  outage: z.object({ durationMs: z.number().int().min(1), status: z.union([z.literal(500), z.literal(503)]).optional() }).optional(),
  drop: z.object({ count: z.number().int().min(1), ...filter }).optional(),
  revokeToken: z.boolean().optional(),
});
const ClickBody = z.object({
  channelId: snowflake,
  messageId: snowflake,
  customId: z.string().min(1).max(100),
  user: z.object({ id: snowflake, username: z.string().min(1).max(32) }).optional(),
});

type Core = Omit<Simulator, 'url' | 'apiUrl' | 'port' | 'close'>;

class ControlError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;
  throw new ControlError(400, result.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; '));
}

/** Builds the router mounted at `/_sim`. */
export function createControlRouter(sim: Core): Router {
  const router = express.Router();
  router.use(express.json({ limit: '1mb' }));

  router.post('/reset', (_req, res) => {
    sim.reset();
    res.json({ ok: true });
  });
  router.get('/channels', (_req, res) => {
    res.json(sim.snapshot(0).channels);
  });
  router.post('/channels', (req, res) => {
    res.status(201).json(sim.createChannel(parse(ChannelBody, req.body)));
  });
  router.get('/channels/:channelId/messages', (req, res) => {
    if (!sim.state.channels.has(req.params.channelId)) throw new ControlError(404, 'unknown channel');
    res.json(sim.messages(req.params.channelId));
  });
  router.post('/webhooks', (req, res) => {
    const body = parse(WebhookBody, req.body);
    if (!sim.state.channels.has(body.channelId)) throw new ControlError(404, 'unknown channel');
    res.status(201).json(sim.createWebhook(body.channelId, body.name));
  });
  router.get('/config', (_req, res) => {
    res.json(sim.configure({}));
  });
  router.patch('/config', (req, res) => {
    res.json(sim.configure(parse(ConfigBody, req.body)));
  });
  router.post('/faults', (req, res) => {
    res.json(sim.injectFaults(parse(FaultBody, req.body)));
  });
  router.delete('/faults', (_req, res) => {
    sim.clearFaults();
    res.status(204).end();
  });
  router.get('/stats', (_req, res) => {
    res.json(sim.stats());
  });
  router.get('/state', (req, res) => {
    const since = Number(req.query.since);
    // The viewer polls every second; an unchanged world answers in a few bytes.
    if (Number.isInteger(since) && since === sim.state.version) {
      res.json({ version: since, unchanged: true });
      return;
    }
    const limit = Number(req.query.limit);
    res.json(sim.snapshot(Number.isInteger(limit) && limit > 0 ? limit : undefined));
  });
  router.post('/interactions/click', async (req, res) => {
    const body = parse(ClickBody, req.body);
    try {
      res.json(await sim.click(body));
    } catch (err) {
      if (err instanceof ClickError) throw new ControlError(err.status, err.message);
      throw err;
    }
  });
  router.use((_req, res) => {
    res.status(404).json({ error: 'unknown control route' });
  });
  router.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof ControlError) res.status(err.status).json({ error: err.message });
    else if (typeof err === 'object' && err !== null && (err as { type?: string }).type === 'entity.parse.failed') {
      res.status(400).json({ error: 'invalid JSON' });
    } else res.status(500).json({ error: 'internal error' });
  });
  return router;
}
