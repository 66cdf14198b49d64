/**
 * A Discord HTTP API v10 simulator with a viewer page, for local runs, tests
 * and benchmarks.
 */
export {
  type ChannelInput,
  type ChannelView,
  type ConfigPatch,
  type ConfigView,
  DEFAULT_RATE_LIMITS,
  type FaultInput,
  type FaultsView,
  type MessageView,
  SIM_BOT_USER,
  type SimOptions,
  type Simulator,
  type StateSnapshot,
  startSimulator,
  type WebhookInfo,
} from './simulator';
export { type ClickInput, type ClickResult, privateKeyFromSeed, publicKeyHex, signInteraction } from './interactions';
export type { RateLimitRule } from './ratelimit';
export { type RateLimitConfig, SIM_CUSTOM_EMOJI, SIM_ROLE, type SimPermissions, type SimRole, SimState, type SimStats, type SimUser } from './state';
export { codePointLength, LIMITS } from './validate';
export { snowflake } from './snowflake';
