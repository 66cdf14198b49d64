/**
 * Ed25519 signatures of Discord interaction requests
 * (`X-Signature-Ed25519` over `X-Signature-Timestamp` + raw body), with
 * Node's crypto: no extra dependency.
 */
import { createPrivateKey, createPublicKey, type KeyObject, sign, verify } from 'node:crypto';

// DER headers that wrap a raw 32-byte Ed25519 key as SPKI (public) or PKCS#8 (private).
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

const HEX64 = /^[0-9a-f]{64}$/i;
const HEX128 = /^[0-9a-f]{128}$/i;

const publicKeys = new Map<string, KeyObject>();

function publicKeyFrom(hex: string): KeyObject {
  const key = hex.toLowerCase();
  let obj = publicKeys.get(key);
  if (obj === undefined) {
    obj = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, Buffer.from(key, 'hex')]), format: 'der', type: 'spki' });
    publicKeys.set(key, obj);
  }
  return obj;
}

/** Input of {@link verifyDiscordSignature}. */
export interface VerifySignatureInput {
  /** The application's public key, 64 hex characters. */
  publicKeyHex: string;
  /** `X-Signature-Ed25519`. */
  signatureHex: string | null | undefined;
  /** `X-Signature-Timestamp` (Unix seconds). */
  timestamp: string | null | undefined;
  /** The body exactly as received. */
  rawBody: Buffer;
  /** Clock, for tests. Default `Date.now()`. */
  nowMs?: number;
  /** Oldest (and furthest in the future) accepted timestamp. Default 300 s. */
  maxAgeSeconds?: number;
}

/** Result of {@link verifyDiscordSignature}. */
export type VerifySignatureResult = { ok: true } | { ok: false; reason: 'missing' | 'malformed' | 'bad_signature' | 'stale' };

/**
 * Checks a Discord interaction request. `missing`: a header is absent;
 * `malformed`: not hex / not a timestamp / bad key; `bad_signature`: not
 * signed by the key; `stale`: signed but older (or newer) than
 * `maxAgeSeconds`, which stops replays of captured requests.
 */
export function verifyDiscordSignature(input: VerifySignatureInput): VerifySignatureResult {
  const { signatureHex, timestamp } = input;
  if (signatureHex == null || signatureHex === '' || timestamp == null || timestamp === '') return { ok: false, reason: 'missing' };
  if (!HEX128.test(signatureHex) || !/^\d{1,15}$/.test(timestamp) || !HEX64.test(input.publicKeyHex)) {
    return { ok: false, reason: 'malformed' };
  }
  let key: KeyObject;
  try {
    key = publicKeyFrom(input.publicKeyHex);
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  const message = Buffer.concat([Buffer.from(timestamp, 'utf8'), input.rawBody]);
  let valid: boolean;
  try {
    valid = verify(null, message, key, Buffer.from(signatureHex, 'hex'));
  } catch {
    valid = false;
  }
  if (!valid) return { ok: false, reason: 'bad_signature' };
  const ageMs = Math.abs((input.nowMs ?? Date.now()) - Number(timestamp) * 1000);
  if (ageMs > (input.maxAgeSeconds ?? 300) * 1000) return { ok: false, reason: 'stale' };
  return { ok: true };
}

/**
 * Signs a request as Discord would (hex signature of `timestamp + rawBody`),
 * from a raw 32-byte private seed in hex. For tests and the simulator.
 */
export function signDiscordRequest(privateSeedHex: string, timestamp: string, rawBody: Buffer | string): string {
  if (!HEX64.test(privateSeedHex)) throw new TypeError('private seed must be 64 hex characters');
  const key = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, Buffer.from(privateSeedHex, 'hex')]), format: 'der', type: 'pkcs8' });
  const body = typeof rawBody === 'string' ? Buffer.from(rawBody, 'utf8') : rawBody;
  return sign(null, Buffer.concat([Buffer.from(timestamp, 'utf8'), body]), key).toString('hex');
}

/** The raw public key (hex) for a private seed (hex): to configure a test keypair. */
export function publicKeyFromSeed(privateSeedHex: string): string {
  const key = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, Buffer.from(privateSeedHex, 'hex')]), format: 'der', type: 'pkcs8' });
  const der = createPublicKey(key).export({ format: 'der', type: 'spki' });
  return der.subarray(SPKI_PREFIX.length).toString('hex');
}
