/**
 * @flipfix/web: the Express app (domain API, pages, admin console, health,
 * metrics). `main.ts` is the process entry; tests and the start script use
 * {@link createApp}.
 */
export { createApp, type AppDeps, type WebConfig } from './app';
export { WebEnv, resolveAdminToken, ADMIN_TOKEN_MIN_LENGTH } from './env';
export { HealthService, type HealthReport, type CheckResult } from './health';
export { WebMetrics } from './metrics';
export { html, raw, escapeHtml, Html } from './views/html';
