/**
 * The admin JSON API (`/api/admin`), behind `Authorization: Bearer
 * <ADMIN_TOKEN>` or a console session with its CSRF header.
 */
import { Router } from 'express';
import type { Queue } from 'bullmq';
import { z } from '@flipfix/config';
import { type Db, getSettings, listSettingsAudit, SettingsPatchSchema, updateSettings } from '@flipfix/db';
import type { QUEUES, RetryPolicy } from '@flipfix/queue';
import { EventsQuery, listEvents, redeliver, redeliverFailed } from '../admin/deliveries';
import { bodyOf } from '../http/schemas';

export interface AdminApiDeps {
  db: Db;
  queues: Record<keyof typeof QUEUES, Queue>;
  retry?: RetryPolicy;
  /** Called after a settings change (the health probe re-reads the channel). */
  onSettingsChanged?: () => void;
}

const RedeliverQuery = z.object({ force: z.enum(['true', 'false', '1', '0']).optional() });
const RedeliverFailedQuery = z.object({ target: z.enum(['bot', 'webhook']).optional() });

/** Routes mounted at `/api/admin` (auth is applied by the caller). */
export function adminApiRouter(deps: AdminApiDeps): Router {
  const r = Router();
  const redeliverDeps = { db: deps.db, queues: deps.queues, ...(deps.retry ? { retry: deps.retry } : {}) };

  r.get('/settings', async (_req, res) => {
    res.json(await getSettings(deps.db.prisma));
  });
  r.patch('/settings', async (req, res) => {
    const patch = SettingsPatchSchema.parse(bodyOf(req.body));
    const settings = await updateSettings(deps.db.prisma, patch, 'api');
    deps.onSettingsChanged?.();
    res.json(settings);
  });
  r.get('/settings/audit', async (req, res) => {
    const { limit } = z.object({ limit: z.coerce.number().int().min(1).max(1000).optional() }).parse(req.query);
    const rows = await listSettingsAudit(deps.db.prisma, limit ?? 100);
    res.json({
      items: rows.map((a) => ({ id: a.id, actor: a.actor, field: a.field, from: a.fromValue, to: a.toValue, createdAt: a.createdAt })),
    });
  });

  r.get('/events', async (req, res) => {
    res.json({ items: await listEvents(deps.db, EventsQuery.parse(req.query)) });
  });

  r.post('/deliveries/redeliver-failed', async (req, res) => {
    const q = RedeliverFailedQuery.parse(req.query);
    res.json(await redeliverFailed(redeliverDeps, { ...(q.target ? { target: q.target } : {}), actor: 'api' }));
  });
  r.post('/deliveries/:id/redeliver', async (req, res) => {
    const q = RedeliverQuery.parse(req.query);
    const force = q.force === 'true' || q.force === '1';
    res.json(await redeliver(redeliverDeps, req.params.id, { force, actor: 'api' }));
  });

  return r;
}
