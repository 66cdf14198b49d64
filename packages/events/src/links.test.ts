import { describe, expect, it } from 'vitest';
import { type LogEntryPost, type PartRequestPost, resolveSubjectLinks } from './index';
import { findLinks, type LinkLookup, type LinkRef, linkRefsIn, renderLinksWith, resolveLinksIn, toStorageForm } from './links';

describe("Flipfix's record-link grammar", () => {
  it('reads both forms of slug kinds and the id kinds, and nothing else', () => {
    const text =
      '[[machine:attack-from-mars]] [[machine:id:7]] [[model:id:2]] [[page:tag/slug]] [[user:ada]] [[problem:11]] [[log:5]] [[partrequest:3]] [[partrequestupdate:9]] ' +
      '[[widget:1]] [[problem:abc]] [[machine:id:x]] [[problem-report:4]] [machine:x] [[machine:]]';
    expect(findLinks(text).map((m) => m.key)).toEqual([
      'machine:attack-from-mars',
      'machine:id:7',
      'model:id:2',
      'page:tag/slug',
      'user:ada',
      'problem:11',
      'log:5',
      'partrequest:3',
      'partrequestupdate:9',
    ]);
    const [first] = findLinks('see [[machine:id:007]]');
    expect(first).toEqual({ ref: { kind: 'machine', id: 7 }, key: 'machine:id:7', start: 4, end: 22 });
    // An id no table can hold names nothing (it renders as a broken link, never as another record).
    expect(findLinks('[[problem:99999999999999999999]]')[0]?.ref).toEqual({ kind: 'problem', id: 0 });
  });

  it('bounds a reference: an unclosed or 200+ character one is not a link', () => {
    expect(findLinks(`${'[['.repeat(50_000)}machine:${'a'.repeat(50_000)}`)).toEqual([]);
    expect(findLinks(`[[machine:${'a'.repeat(201)}]] [[machine:${'a'.repeat(200)}]]`).map((m) => m.key)).toEqual([`machine:${'a'.repeat(200)}`]);
  });

  it('resolves all links of many texts with one lookup call, and none when there is no link', async () => {
    const calls: LinkRef[][] = [];
    const lookup: LinkLookup = {
      async resolveLinks(refs) {
        calls.push([...refs]);
        return new Map([['problem:1', { id: 1, label: 'Problem #1', url: 'https://x/problem-reports/1' }]]);
      },
    };
    const targets = await resolveLinksIn(lookup, ['[[problem:1]] [[problem:1]] [[log:2]]', '[[problem:1]] [[machine:ebd]]']);
    expect(calls).toEqual([[{ kind: 'problem', id: 1 }, { kind: 'log', id: 2 }, { kind: 'machine', slug: 'ebd' }]]);
    expect(targets).toEqual({ 'problem:1': { id: 1, label: 'Problem #1', url: 'https://x/problem-reports/1' } });
    expect(await resolveLinksIn(lookup, ['no links', '[[widget:1]]'])).toEqual({});
    expect(calls).toHaveLength(1);
    expect(linkRefsIn([])).toEqual([]);
  });

  it('renders each link with its target or undefined for a missing one', () => {
    const targets = { 'log:5': { id: 5, label: 'Log #5', url: '/log-entries/5' } };
    expect(renderLinksWith('a [[log:5]] b [[log:6]] c', targets, (t) => (t ? `<${t.label}>` : '<none>'))).toBe('a <Log #5> b <none> c');
    expect(renderLinksWith('[[log:constructor]] [[machine:__proto__]]', {}, (t) => (t ? 'found' : 'missing'))).toBe('[[log:constructor]] missing');
  });

  it('converts authored links to the stored form, reporting the ones that name nothing', () => {
    const targets = { 'machine:afm': { id: 7, label: 'Attack From Mars', url: '/machines/afm' } };
    expect(toStorageForm('[[machine:afm]] [[machine:id:3]] [[problem:1]] [[machine:nope]] [[afm]]', targets)).toEqual({
      text: '[[machine:id:7]] [[machine:id:3]] [[problem:1]] [[machine:nope]] [[afm]]',
      missing: ['[[machine:nope]]'],
    });
  });
});

describe('resolveSubjectLinks', () => {
  it('one lookup for a batch of subjects; each gets the targets of its own texts, the 📎 record\'s included', async () => {
    const calls: number[] = [];
    const lookup: LinkLookup = {
      async resolveLinks(refs) {
        calls.push(refs.length);
        return new Map(refs.map((r) => ['id' in r ? `${r.kind}:${r.id}` : '', { id: 1, label: 'x', url: 'https://x/' }]));
      },
    };
    const common = { url: 'https://x/', photoUrls: [], createdAt: new Date(0), links: {} };
    const entry: LogEntryPost = {
      ...common,
      kind: 'log_entry',
      id: 1,
      machine: { id: 1, name: 'M', shortName: null },
      text: '[[log:1]]',
      maintainerNames: [],
      problemReport: { label: 'Problem Report #2', url: 'https://x/', lead: null, text: 'see [[problem:2]]' },
    };
    const request: PartRequestPost = { ...common, kind: 'part_request', id: 3, machine: null, text: '[[problem:2]] [[partrequest:3]]', status: 'requested', requestedByName: null };
    await resolveSubjectLinks(lookup, [entry, request]);
    expect(calls).toEqual([3]);
    expect(Object.keys(entry.links)).toEqual(['log:1', 'problem:2']);
    expect(Object.keys(request.links)).toEqual(['problem:2', 'partrequest:3']);
  });
});
