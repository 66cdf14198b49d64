/**
 * @flipfix/bot-features: what the bot can do beyond posting. Threads,
 * reactions, digests (worker hooks, {@link createBotFeatures}) and the signed
 * interactions endpoint for buttons ({@link createInteractionsRouter}).
 */
export { createBotFeatures, type BotFeatures, type BotFeaturesOptions } from './features';
export { createInteractionsRouter, clickerName, runAction, REPLAY_TTL_SECONDS, type InteractionsDeps } from './interactions';
export { DIGEST_QUEUE, Digests, digestDueAt, digestKeyOf, isUrgent, type DigestsOptions, type FlushOutcome } from './digest';
export { THREAD_AUTO_ARCHIVE, THREADED_EVENTS, Threads, type ThreadsOptions } from './threads';
export { addConfiguredReactions } from './reactions';
