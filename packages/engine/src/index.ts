/**
 * @flipfix/engine: what every delivery path shares. The one decision on a
 * failed Discord call ({@link decide}) and how it is carried out, the
 * invalid-request brake, and the contracts between the worker and its
 * extensions. The ledger's transitions live in `@flipfix/db` (`ledger`).
 */
export { applyDecision, attemptOf, finishJob, handleFailure, type ApplyDeps } from './apply';
export {
  countInvalidRequests,
  DEFAULT_BRAKE_THRESHOLD,
  DISCORD_INVALID_REQUEST_LIMIT,
  InvalidRequestBrake,
  isInvalidRequest,
  type BrakeOptions,
  type BrakeState,
} from './brake';
export type {
  AfterPostContext,
  DeliveryMetrics,
  ExtendWorker,
  ObservedLimit,
  PlannedPost,
  RateLimiter,
  WorkerContext,
  WorkerContextOptions,
  WorkerExtension,
} from './contracts';
export { decide, DISCORD_CODES, type Decision, type JobAction, type LedgerAction } from './decide';
