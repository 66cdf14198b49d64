export { startWorker, type WorkerOptions, type RunningWorker, type WorkerContext, type WorkerExtension } from './worker';
export { planTargets, enqueueDeliveries, type PlannedTarget } from './router';
export { SharedRateLimiter, type WindowLimit } from './rate-limiter';
export { Metrics } from './metrics';
export { WorkerEnv } from './env';
