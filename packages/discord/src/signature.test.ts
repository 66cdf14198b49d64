import { describe, expect, it } from 'vitest';
import { publicKeyFromSeed, signDiscordRequest, verifyDiscordSignature } from './signature';

const SEED = '8f2b0cfb6a4c4f9c9d1e2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f';
const PUBLIC = publicKeyFromSeed(SEED);
const NOW = 1_750_000_000_000;
const TS = String(NOW / 1000);
const BODY = Buffer.from('{"type":1}');

describe('verifyDiscordSignature', () => {
  it('derives the public key the simulator documents for its seed', () => {
    expect(PUBLIC).toMatch(/^[0-9a-f]{64}$/);
    expect(publicKeyFromSeed(SEED)).toBe(PUBLIC);
  });

  it('accepts a request signed with the matching key', () => {
    const sig = signDiscordRequest(SEED, TS, BODY);
    expect(verifyDiscordSignature({ publicKeyHex: PUBLIC, signatureHex: sig, timestamp: TS, rawBody: BODY, nowMs: NOW })).toEqual({ ok: true });
    expect(verifyDiscordSignature({ publicKeyHex: PUBLIC.toUpperCase(), signatureHex: sig.toUpperCase(), timestamp: TS, rawBody: BODY, nowMs: NOW })).toEqual({ ok: true });
  });

  it('rejects a tampered body, timestamp or signature', () => {
    const sig = signDiscordRequest(SEED, TS, BODY);
    const v = (over: Partial<Parameters<typeof verifyDiscordSignature>[0]>) =>
      verifyDiscordSignature({ publicKeyHex: PUBLIC, signatureHex: sig, timestamp: TS, rawBody: BODY, nowMs: NOW, ...over });
    expect(v({ rawBody: Buffer.from('{"type":2}') })).toEqual({ ok: false, reason: 'bad_signature' });
    expect(v({ timestamp: String(Number(TS) + 1) })).toEqual({ ok: false, reason: 'bad_signature' });
    expect(v({ signatureHex: `${sig.slice(0, -2)}${sig.endsWith('00') ? '01' : '00'}` })).toEqual({ ok: false, reason: 'bad_signature' });
    const other = publicKeyFromSeed('11'.repeat(32));
    expect(v({ publicKeyHex: other })).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('reports missing and malformed headers', () => {
    const sig = signDiscordRequest(SEED, TS, BODY);
    const base = { publicKeyHex: PUBLIC, rawBody: BODY, nowMs: NOW };
    expect(verifyDiscordSignature({ ...base, signatureHex: undefined, timestamp: TS })).toEqual({ ok: false, reason: 'missing' });
    expect(verifyDiscordSignature({ ...base, signatureHex: sig, timestamp: '' })).toEqual({ ok: false, reason: 'missing' });
    expect(verifyDiscordSignature({ ...base, signatureHex: 'zz', timestamp: TS })).toEqual({ ok: false, reason: 'malformed' });
    expect(verifyDiscordSignature({ ...base, signatureHex: sig, timestamp: 'yesterday' })).toEqual({ ok: false, reason: 'malformed' });
    expect(verifyDiscordSignature({ ...base, publicKeyHex: 'abc', signatureHex: sig, timestamp: TS })).toEqual({ ok: false, reason: 'malformed' });
  });

  it('rejects a valid signature that is too old or too far ahead', () => {
    const old = String(NOW / 1000 - 301);
    const ahead = String(NOW / 1000 + 301);
    const base = { publicKeyHex: PUBLIC, rawBody: BODY, nowMs: NOW };
    expect(verifyDiscordSignature({ ...base, timestamp: old, signatureHex: signDiscordRequest(SEED, old, BODY) })).toEqual({ ok: false, reason: 'stale' });
    expect(verifyDiscordSignature({ ...base, timestamp: ahead, signatureHex: signDiscordRequest(SEED, ahead, BODY) })).toEqual({ ok: false, reason: 'stale' });
    const recent = String(NOW / 1000 - 299);
    expect(verifyDiscordSignature({ ...base, timestamp: recent, signatureHex: signDiscordRequest(SEED, recent, BODY) })).toEqual({ ok: true });
  });
});
