/** Discord-style snowflakes: milliseconds since 2015-01-01 shifted left 22 bits, plus an increment. */
const DISCORD_EPOCH = 1_420_070_400_000n;
let increment = 0n;

/** A new unique snowflake id for `at` (default now). */
export function snowflake(at: number = Date.now()): string {
  increment = (increment + 1n) & 0xfffn;
  return (((BigInt(at) - DISCORD_EPOCH) << 22n) | (1n << 17n) | increment).toString();
}

/** The creation time a snowflake encodes, in epoch milliseconds. */
export function snowflakeTime(id: string): number {
  return Number((BigInt(id) >> 22n) + DISCORD_EPOCH);
}
