/**
 * Our bodies against Discord's own OpenAPI description of the request bodies
 * (a subset copied into __fixtures__), with a minimal JSON Schema checker
 * covering the keywords those schemas use.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { packEmbeds } from './batch';
import { formatDigest, formatPost, formatStatusEdit, formatTestMessage } from './format';
import { BASE, logEntry, partRequest, partUpdate, problemReport } from '../test/fixtures';
import { codePointLength } from './limits';

type Schema = Record<string, unknown>;
const spec = JSON.parse(readFileSync(new URL('./__fixtures__/discord-message-schemas.json', import.meta.url), 'utf8')) as {
  schemas: Record<string, Schema>;
};

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

/** Errors of `value` against `schema`; `strict` also reports properties the schema does not define. */
function check(schema: Schema, value: unknown, path = '$', strict = true): string[] {
  if (typeof schema.$ref === 'string') {
    const name = schema.$ref.replace('#/components/schemas/', '');
    const target = spec.schemas[name];
    if (!target) return [`${path}: unknown $ref ${name}`];
    return check(target, value, path, strict);
  }
  const errors: string[] = [];
  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? (schema.type as string[]) : [schema.type as string];
    const t = typeOf(value);
    if (!types.includes(t) && !(t === 'integer' && types.includes('number'))) return [`${path}: ${t} is not ${types.join('|')}`];
  }
  if (Array.isArray(schema.enum) && !schema.enum.includes(value)) errors.push(`${path}: ${String(value)} not in enum`);
  if ('const' in schema && schema.const !== value) errors.push(`${path}: not ${String(schema.const)}`);
  if (typeof value === 'string') {
    const n = codePointLength(value);
    if (typeof schema.maxLength === 'number' && n > schema.maxLength) errors.push(`${path}: length ${n} > ${schema.maxLength}`);
    if (typeof schema.minLength === 'number' && n < schema.minLength) errors.push(`${path}: length ${n} < ${schema.minLength}`);
    if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern, 'u').test(value)) errors.push(`${path}: does not match ${schema.pattern}`);
    if (schema.format === 'uri' && !URL.canParse(value)) errors.push(`${path}: not a URI`);
    if (schema.format === 'date-time' && Number.isNaN(Date.parse(value))) errors.push(`${path}: not a date-time`);
  }
  if (typeof value === 'number') {
    if (typeof schema.minimum === 'number' && value < schema.minimum) errors.push(`${path}: < ${schema.minimum}`);
    if (typeof schema.maximum === 'number' && value > schema.maximum) errors.push(`${path}: > ${schema.maximum}`);
  }
  if (Array.isArray(value)) {
    if (typeof schema.maxItems === 'number' && value.length > schema.maxItems) errors.push(`${path}: ${value.length} items > ${schema.maxItems}`);
    if (typeof schema.minItems === 'number' && value.length < schema.minItems) errors.push(`${path}: ${value.length} items < ${schema.minItems}`);
    if (schema.uniqueItems === true && new Set(value.map((v) => JSON.stringify(v))).size !== value.length) errors.push(`${path}: duplicate items`);
    if (schema.items) {
      value.forEach((v, i) => {
        errors.push(...check(schema.items as Schema, v, `${path}[${i}]`, strict));
      });
    }
  }
  if (typeOf(value) === 'object' && schema.properties) {
    const props = schema.properties as Record<string, Schema>;
    const obj = value as Record<string, unknown>;
    for (const req of (schema.required as string[] | undefined) ?? []) if (!(req in obj)) errors.push(`${path}.${req}: required`);
    for (const [k, v] of Object.entries(obj)) {
      if (v === undefined) continue;
      if (props[k]) errors.push(...check(props[k], v, `${path}.${k}`, strict));
      else if (strict) errors.push(`${path}.${k}: not in Discord's schema`);
    }
  }
  for (const sub of (schema.allOf as Schema[] | undefined) ?? []) errors.push(...check(sub, value, path, strict));
  if (Array.isArray(schema.oneOf)) {
    const results = (schema.oneOf as Schema[]).map((s) => check(s, value, path, strict));
    const ok = results.filter((r) => r.length === 0).length;
    if (ok !== 1) errors.push(`${path}: matches ${ok} of oneOf (${results.map((r) => r[0] ?? 'ok').join(' / ')})`);
  }
  return errors;
}

const schema = (name: string) => spec.schemas[name]!;
const photos = ['https://img.example.org/1.jpg', 'https://img.example.org/2.jpg', 'https://img.example.org/3.jpg'];

describe("bodies match Discord's OpenAPI request schemas", () => {
  const subjects = [
    problemReport({ priority: 'unplayable', photoUrls: photos, claimedByName: 'Bob' }),
    problemReport({ status: 'closed' }),
    logEntry({ photoUrls: photos, problemReport: { label: 'Problem Report #12', url: `${BASE}/problem-reports/12`, lead: 'Stuck Ball', text: 'Ball stuck' } }),
    partRequest(),
    partRequest({ status: 'ordered', machine: null }),
    partUpdate({ newStatus: 'received' }),
  ];

  it('the checker rejects what Discord would', () => {
    expect(check(schema('MessageCreateRequest'), { embeds: [{ title: 'x'.repeat(257) }] })).not.toEqual([]);
    expect(check(schema('MessageCreateRequest'), { components: [{ type: 1, components: [{ type: 2, style: 9 }] }] })).not.toEqual([]);
    expect(check(schema('MessageCreateRequest'), { allowed_mentions: { parse: ['everyone', 'everyone'] } })).not.toEqual([]);
    expect(check(schema('MessageCreateRequest'), { nonce: 'x'.repeat(26) })).not.toEqual([]);
    expect(check(schema('MessageCreateRequest'), { embedz: [] })).not.toEqual([]);
  });

  it('bot posts as MessageCreateRequest (with the poster’s nonce)', () => {
    for (const s of subjects) {
      const body = { ...formatPost(s, { baseUrl: BASE, roleMention: { roleId: '1234567890123456789' } }), nonce: 'abcdefghijklmnopqrstuvwxy', enforce_nonce: true };
      expect(check(schema('MessageCreateRequest'), body)).toEqual([]);
    }
  });

  it('webhook posts as IncomingWebhookRequestPartial', () => {
    for (const s of subjects) expect(check(schema('IncomingWebhookRequestPartial'), formatPost(s, { baseUrl: BASE, mode: 'webhook' }))).toEqual([]);
  });

  it('status edits as MessageEditRequestPartial / IncomingWebhookUpdateRequestPartial', () => {
    for (const s of subjects) {
      expect(check(schema('MessageEditRequestPartial'), formatStatusEdit(s, { baseUrl: BASE }))).toEqual([]);
      expect(check(schema('IncomingWebhookUpdateRequestPartial'), formatStatusEdit(s, { baseUrl: BASE, mode: 'webhook' }))).toEqual([]);
    }
  });

  it('test posts, digests and packed batches too', () => {
    const create = schema('MessageCreateRequest');
    expect(check(create, formatTestMessage('log_entry_created', BASE))).toEqual([]);
    expect(check(create, formatDigest(subjects.map((subject) => ({ subject, eventType: 'log_entry_created' as const })), { baseUrl: BASE }))).toEqual([]);
    for (const m of packEmbeds(subjects.map((s) => formatPost(s, { baseUrl: BASE }))).messages) expect(check(create, m.body)).toEqual([]);
  });
});
