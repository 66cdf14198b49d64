/**
 * @flipfix/legacy-webhooks: the legacy webhook path, isolated so that
 * removing it is deleting this package, its tables and two wiring lines (see
 * docs/ARCHITECTURE-legacy-webhooks.md). Endpoints and subscriptions (URLs
 * always masked), webhook delivery as a worker extension, the admin JSON API
 * and the rollout parity report.
 */
export {
  DISABLED_BY_ADMIN,
  createWebhookEndpoint,
  deleteWebhookEndpoint,
  disableWebhookEndpoint,
  getWebhookEndpoint,
  listWebhookEndpoints,
  updateWebhookEndpoint,
  webhookEndpointIdsFor,
  type EndpointServiceOptions,
  type WebhookEndpointView,
} from './endpoints';
export {
  createWebhookExtension,
  createWebhookProcessor,
  webhookScope,
  withLegacyWebhooks,
  type MergeableExtension,
  type WebhookDeliveryDeps,
  type WebhookDeliveryOutcome,
  type WebhookExtension,
  type WebhookExtensionOptions,
} from './delivery';
export { createWebhookAdminRouter, type WebhookAdminDeps } from './admin-router';
export { comparePayloads, rolloutReport, type ParityMismatch, type RolloutReport, type RolloutReportOptions, type SideStatus } from './parity';
export { sendWebhookTestMessage, type WebhookTestDeps, type WebhookTestResult } from './test-message';
export {
  NAME_MAX,
  checkWebhookUrl,
  createEndpointSchema,
  updateEndpointSchema,
  type CreateEndpointInput,
  type UpdateEndpointInput,
  type WebhookUrlRules,
} from './validation';
