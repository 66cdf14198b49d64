/**
 * Preload (`node --import …/skewed-clock.mjs`) that shifts this process's
 * wall clock by CLOCK_SKEW_MS (e.g. -2000 or 2000): `Date.now()` and
 * `new Date()` run early or late, as on a host whose clock drifted. The
 * monotonic clock (`performance.now()`, timers) is untouched, as it is on a
 * real host. Tests use it to run workers as if on several machines.
 */
const skewMs = Number(process.env.CLOCK_SKEW_MS ?? 0);
if (Number.isFinite(skewMs) && skewMs !== 0) {
  const RealDate = Date;
  const realNow = RealDate.now.bind(RealDate);
  class SkewedDate extends RealDate {
    constructor(...args) {
      if (args.length === 0) super(realNow() + skewMs);
      else super(...args);
    }
    static now() {
      return realNow() + skewMs;
    }
  }
  globalThis.Date = SkewedDate;
}
