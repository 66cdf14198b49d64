/**
 * Fixed-window buckets like Discord's: a bucket's window starts with its first
 * request and refills completely when it ends.
 */
import { createHash } from 'node:crypto';

/** `limit` requests per `windowMs`. */
export interface RateLimitRule {
  limit: number;
  windowMs: number;
}

/** A bucket's state after one request was counted (or refused). */
export interface BucketState {
  limited: boolean;
  limit: number;
  remaining: number;
  /** Epoch ms at which the bucket refills. */
  resetAt: number;
}

interface Bucket {
  remaining: number;
  resetAt: number;
}

/** In-memory buckets keyed by an opaque string (route bucket + major parameter, or the token for the global limit). */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  take(key: string, rule: RateLimitRule, now: number): BucketState {
    let bucket = this.buckets.get(key);
    if (bucket === undefined || now >= bucket.resetAt) {
      if (this.buckets.size > 10_000) this.sweep(now);
      bucket = { remaining: rule.limit, resetAt: now + rule.windowMs };
      this.buckets.set(key, bucket);
    }
    if (bucket.remaining <= 0) {
      return { limited: true, limit: rule.limit, remaining: 0, resetAt: bucket.resetAt };
    }
    bucket.remaining--;
    return { limited: false, limit: rule.limit, remaining: bucket.remaining, resetAt: bucket.resetAt };
  }

  clear(): void {
    this.buckets.clear();
  }

  private sweep(now: number): void {
    for (const [key, b] of this.buckets) if (now >= b.resetAt) this.buckets.delete(key);
  }
}

const hashes = new Map<string, string>();

/**
 * Discord's opaque X-RateLimit-Bucket value. Like Discord, it names the route's
 * bucket and is the same for every channel; the major parameter (channel or
 * webhook id) then tells buckets apart, which is how @discordjs/rest keys its
 * queues (`hash:majorParameter`).
 */
export function bucketHash(bucket: string): string {
  let hash = hashes.get(bucket);
  if (hash === undefined) {
    hash = createHash('sha1').update(bucket).digest('hex').slice(0, 32);
    hashes.set(bucket, hash);
  }
  return hash;
}
