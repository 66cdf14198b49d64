/** Thrown when the environment is invalid; its message lists every bad variable. */
export class EnvError extends Error {
  override name = 'EnvError';
}
