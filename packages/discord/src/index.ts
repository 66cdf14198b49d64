/**
 * Shared Discord code: limits, text hygiene, formatters, batching, error
 * classification, the REST poster, interaction signatures and button ids.
 */
export * from './batch';
export * from './classify';
export * from './custom-id';
export * from './format';
export * from './limits';
export * from './rest';
export * from './signature';
export * from './text';
