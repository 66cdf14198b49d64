/** The admin console (`/admin`). */
import type { REST } from '@discordjs/rest';
import type { Queue } from 'bullmq';
import { Router } from 'express';
import type { Redis } from 'ioredis';
import type { Db } from '@flipfix/db';
import type { Logger } from '@flipfix/logger';
import type { QUEUES } from '@flipfix/queue';
import type { WebConfig } from '../app';
import type { HealthService } from '../health';
import type { AdminAuth } from './auth';

export interface ConsoleDeps {
  db: Db;
  redis: Redis;
  queues: Record<keyof typeof QUEUES, Queue>;
  log: Logger;
  config: WebConfig;
  auth: AdminAuth;
  health: HealthService;
  discordRest?: REST | undefined;
  onSettingsChanged: () => void;
}

export function adminConsoleRouter(deps: ConsoleDeps): Router {
  const r = Router();
  r.use(deps.auth.loadSession(), deps.auth.requirePage());
  return r;
}
