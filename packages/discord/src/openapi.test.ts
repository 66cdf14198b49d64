/**
 * Our bodies against Discord's own OpenAPI description of the request bodies
 * (the schemas those bodies reference, copied verbatim into __fixtures__ from
 * discord/discord-api-spec; a test below checks the copy against the full
 * spec when it is at hand), validated by ajv (JSON Schema 2020-12, as
 * OpenAPI 3.1 uses) with ajv-formats, so `format: uri` is RFC 3986 and
 * `format: date-time` RFC 3339, as Discord checks them, not `URL.canParse`.
 * Objects are closed (`unevaluatedProperties: false`): a property Discord does
 * not define is an error too.
 */
import { existsSync, readFileSync } from 'node:fs';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BASE, logEntry, partRequest, partUpdate, problemReport } from '../test/fixtures';
import { packEmbeds } from './batch';
import { formatDigest, formatPost, formatStatusEdit, formatTestMessage } from './format';

type Schema = Record<string, unknown>;
const fixture = JSON.parse(readFileSync(new URL('./__fixtures__/discord-message-schemas.json', import.meta.url), 'utf8')) as { schemas: Record<string, Schema> };

/** Closes every object schema that lists its properties, so unknown properties fail. */
function closed(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(closed);
  if (node === null || typeof node !== 'object') return node;
  const out: Schema = Object.fromEntries(Object.entries(node).map(([k, v]) => [k, k === 'enum' || k === 'const' ? v : closed(v)]));
  if (out.properties !== undefined && out.additionalProperties === undefined) out.unevaluatedProperties = false;
  return out;
}

const ajv = new Ajv2020({ allErrors: true, strict: false });
addFormats.default(ajv, { mode: 'full' });
// OpenAPI's numeric formats and Discord's own: the number and pattern keywords already say what they allow.
for (const name of ['int32', 'int64', 'double', 'float', 'nonce']) ajv.addFormat(name, true);
ajv.addFormat('snowflake', /^(0|[1-9][0-9]{0,19})$/);
ajv.addSchema({ $id: 'discord', components: { schemas: closed(fixture.schemas) } });

const validators = new Map<string, ValidateFunction>();
/** Errors of `body` against Discord's schema `name`, as `path: message` lines. */
function errors(name: string, body: unknown): string[] {
  let validate = validators.get(name);
  if (validate === undefined) {
    validate = ajv.compile({ $ref: `discord#/components/schemas/${name}` });
    validators.set(name, validate);
  }
  return validate(body) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '$'}: ${e.message ?? e.keyword} ${JSON.stringify(e.params)}`);
}

const photos = ['https://img.example.org/1.jpg', 'https://img.example.org/2.jpg', 'https://img.example.org/3.jpg'];
const NONCE = { nonce: 'abcdefghijklmnopqrstuvwxy', enforce_nonce: true };

describe("bodies match Discord's OpenAPI request schemas", () => {
  const subjects = [
    problemReport({ priority: 'unplayable', photoUrls: photos, claimedByName: 'Bob' }),
    problemReport({ status: 'closed' }),
    logEntry({ photoUrls: photos, problemReport: { label: 'Problem Report #12', url: `${BASE}/problem-reports/12`, lead: 'Stuck Ball', text: 'Ball stuck' } }),
    partRequest(),
    partRequest({ status: 'ordered', machine: null }),
    partUpdate({ newStatus: 'received' }),
  ];

  it('the validator rejects what Discord would', () => {
    const create = 'MessageCreateRequest';
    expect(errors(create, { embeds: [{ title: 'x'.repeat(257) }] })).not.toEqual([]);
    expect(errors(create, { components: [{ type: 1, components: [{ type: 2, style: 9 }] }] })).not.toEqual([]);
    expect(errors(create, { allowed_mentions: { parse: ['everyone', 'everyone'] } })).not.toEqual([]);
    expect(errors(create, { nonce: 'x'.repeat(26) })).not.toEqual([]);
    expect(errors(create, { embedz: [] })).not.toEqual([]);
    expect(errors(create, { embeds: [{ title: 'x', colour: 1 }] })).not.toEqual([]);
    // What URL.canParse accepts and Discord does not.
    for (const url of ['https://img.example.org/100%.jpg', 'https://img.example.org/a|b.jpg', 'https://img.example.org/a^b', 'https://img.example.org/a`b', 'https://img.example.org/a\\b', 'https://img.example.org/[1].jpg']) {
      expect(URL.canParse(url)).toBe(true);
      expect(errors(create, { embeds: [{ image: { url } }] }), url).not.toEqual([]);
    }
    expect(errors(create, { embeds: [{ timestamp: '+010000-01-01T00:00:00.000Z' }] })).not.toEqual([]);
    expect(errors(create, { embeds: [{ url: 'https://img.example.org/ok%20fine', image: { url: 'https://img.example.org/x.jpg' }, timestamp: '2025-03-01T12:00:00.000Z' }] })).toEqual([]);
  });

  it('bot posts as MessageCreateRequest (with the poster’s nonce)', () => {
    for (const s of subjects) {
      expect(errors('MessageCreateRequest', { ...formatPost(s, { baseUrl: BASE, roleMention: { roleId: '1234567890123456789' } }), ...NONCE })).toEqual([]);
    }
  });

  it('webhook posts as IncomingWebhookRequestPartial', () => {
    for (const s of subjects) expect(errors('IncomingWebhookRequestPartial', formatPost(s, { baseUrl: BASE, mode: 'webhook' }))).toEqual([]);
  });

  it('status edits as MessageEditRequestPartial / IncomingWebhookUpdateRequestPartial', () => {
    for (const s of subjects) {
      expect(errors('MessageEditRequestPartial', formatStatusEdit(s, { baseUrl: BASE }))).toEqual([]);
      expect(errors('IncomingWebhookUpdateRequestPartial', formatStatusEdit(s, { baseUrl: BASE, mode: 'webhook' }))).toEqual([]);
    }
  });

  it('test posts, digests and packed batches too', () => {
    expect(errors('MessageCreateRequest', formatTestMessage('log_entry_created', BASE))).toEqual([]);
    expect(errors('MessageCreateRequest', formatDigest(subjects.map((subject) => ({ subject, eventType: 'log_entry_created' as const })), { baseUrl: BASE }))).toEqual([]);
    for (const m of packEmbeds(subjects.map((s) => formatPost(s, { baseUrl: BASE }))).messages) expect(errors('MessageCreateRequest', m.body)).toEqual([]);
  });
});

describe('URLs and dates that break Discord’s formats are normalized or dropped', () => {
  /** Characters the WHATWG parser lets through and RFC 3986 does not, among ordinary ones. */
  const urlChar = fc.constantFrom('a', 'Z', '0', '/', '.', '-', '%', '|', '^', '`', '\\', '[', ']', '{', '}', '#', '?', '=', '&', ' ', '"', '<', '>', '@', '(', ')', 'é', '😀');
  const hostileUrl = fc.oneof(
    fc.string({ unit: urlChar, maxLength: 30 }).map((tail) => `https://img.example.org/${tail}`),
    fc.constantFrom('https://img.example.org/100%.jpg', 'https://img.example.org/[1].jpg', 'not a url', 'javascript:alert(1)', 'https://user:pw@img.example.org/x', ''),
  );
  const hostileBase = fc.oneof(
    fc.constant(BASE),
    fc.string({ unit: urlChar, maxLength: 12 }).map((tail) => `https://flipfix.example.org/${tail}`),
    fc.constant('https://flipfix.example.org/a|b'),
  );
  const date = fc.oneof(
    fc.date({ noInvalidDate: false }),
    fc.constantFrom(new Date('+010000-01-01T00:00:00Z'), new Date('-000001-01-01T00:00:00Z'), new Date(8.64e15), new Date(-8.64e15), new Date(Number.NaN)),
  );
  const subject = fc
    .tuple(fc.integer({ min: 0, max: 3 }), hostileUrl, fc.array(hostileUrl, { maxLength: 6 }), date, hostileUrl)
    .map(([kind, url, photoUrls, createdAt, linkedUrl]) => {
      // Record links whose targets carry the same hostile URLs.
      const links = { 'problem:3': { id: 3, label: 'Problem #3: x', url: linkedUrl }, 'machine:id:1': { id: 1, label: 'Eight Ball', url } };
      const common = { url, photoUrls, createdAt, links };
      const linked = { label: 'Linked', url: linkedUrl, lead: null, text: 'text [[problem:3]]' };
      if (kind === 0) return problemReport({ ...common, description: '[[machine:id:1]] x [[machine:eight-ball]]' });
      if (kind === 1) return logEntry({ ...common, problemReport: linked });
      if (kind === 2) return partRequest(common);
      return partUpdate({ ...common, partRequest: linked });
    });

  it('every formatted body is valid under the schema, formats included', () => {
    fc.assert(
      fc.property(subject, hostileBase, (s, baseUrl) => {
        const body = formatPost(s, { baseUrl });
        expect(errors('MessageCreateRequest', { ...body, ...NONCE })).toEqual([]);
        expect(errors('IncomingWebhookRequestPartial', formatPost(s, { baseUrl, mode: 'webhook' }))).toEqual([]);
        expect(errors('MessageEditRequestPartial', formatStatusEdit(s, { baseUrl }))).toEqual([]);
        expect(errors('MessageCreateRequest', formatDigest([{ subject: s, eventType: 'log_entry_created' }], { baseUrl }))).toEqual([]);
      }),
      { numRuns: 500 },
    );
  });

  it('keeps a photo whose URL only needed encoding, and drops a timestamp outside years 0-9999', () => {
    const body = formatPost(problemReport({ photoUrls: ['https://img.example.org/100%.jpg'], createdAt: new Date('+010000-01-01T00:00:00Z') }), { baseUrl: BASE });
    expect(body.embeds?.[0]?.image?.url).toBe('https://img.example.org/100%25.jpg');
    expect(body.embeds?.[0]?.timestamp).toBeUndefined();
  });
});

describe('the schema fixture', () => {
  // The full spec sits beside the repository on the development machines (../shared/discord-api-spec); CI has the copy only.
  const spec = [new URL('../../../../shared/discord-api-spec/openapi.json', import.meta.url), new URL('file:///work/shared/discord-api-spec/openapi.json')].find((u) => existsSync(u));

  it.skipIf(spec === undefined)('is a verbatim copy of the schemas in Discord’s OpenAPI spec', () => {
    const full = JSON.parse(readFileSync(spec!, 'utf8')) as { components: { schemas: Record<string, Schema> } };
    for (const [name, schema] of Object.entries(fixture.schemas)) expect(full.components.schemas[name], name).toEqual(schema);
  });
});
