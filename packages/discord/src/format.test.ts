import type { PartRequestPost, PostSubject } from '@flipfix/events';
import type { APIEmbed, RESTPostAPIChannelMessageJSONBody } from 'discord-api-types/v10';
import { describe, expect, it } from 'vitest';
import { parseCustomId } from './custom-id';
import { COLORS, formatDigest, formatPost, formatStatusEdit, formatTestMessage, threadName } from './format';
import { DISCORD_LIMITS, embedLength, validateMessageBody } from './limits';
import { AT, BASE, logEntry, partRequest, partUpdate, problemReport } from '../test/fixtures';
import { randomText, rng } from '../test/random';

const main = (body: RESTPostAPIChannelMessageJSONBody): APIEmbed => body.embeds![0]!;
interface Button {
  type: number;
  style: number;
  label?: string;
  url?: string;
  custom_id?: string;
  disabled?: boolean;
}
const buttons = (body: { components?: unknown[] | null | undefined }): Button[] =>
  ((body.components ?? []) as { components: Button[] }[]).flatMap((r) => r.components);

describe('formatPost: Flipfix parity', () => {
  it('problem report: ⚠️ short name, red, type label, reporter, link', () => {
    const body = formatPost(problemReport(), { baseUrl: BASE });
    const e = main(body);
    expect(e.title).toBe('⚠️ EBD');
    expect(e.url).toBe(`${BASE}/problem-reports/12`);
    expect(e.color).toBe(15158332);
    expect(e.description).toBe('Stuck Ball: Ball stuck behind the upper flipper\n\n— Ada');
    expect(e.timestamp).toBe('2025-03-01T12:00:00.000Z');
    expect(body.allowed_mentions).toEqual({ parse: [] });
    expect(body.content).toBeUndefined();
    expect(body.nonce).toBeUndefined();
  });

  it('problem report: no label for "other", Anonymous (never the private contact) without a name, name when no short name', () => {
    const other = main(formatPost(problemReport({ problemType: 'other', reporterName: null }), { baseUrl: BASE }));
    expect(other.description).toBe('Ball stuck behind the upper flipper\n\n— Anonymous');
    expect(JSON.stringify(formatPost(problemReport({ reporterName: null }), { baseUrl: BASE }))).not.toContain('ada@example.com');
    const anon = main(formatPost(problemReport({ reporterName: '  ', reporterContact: null, problemType: 'no_credits' }), { baseUrl: BASE }));
    expect(anon.description).toBe('No Credits: Ball stuck behind the upper flipper\n\n— Anonymous');
    const noShort = main(formatPost(problemReport({ machine: { id: 1, name: 'Eight Ball Deluxe', shortName: null } }), { baseUrl: BASE }));
    expect(noShort.title).toBe('⚠️ Eight Ball Deluxe');
  });

  it('log entry: 🗒️, blue, 📎 linked problem report, maintainers joined', () => {
    const body = formatPost(
      logEntry({
        problemReport: {
          label: 'Problem Report #12',
          url: `${BASE}/problem-reports/12`,
          lead: 'Stuck Ball',
          text: 'Ball stuck behind the upper flipper, again, and the lane switch is loose',
        },
      }),
      { baseUrl: BASE },
    );
    const e = main(body);
    expect(e.title).toBe('🗒️ EBD');
    expect(e.color).toBe(3447003);
    expect(e.description).toBe(
      'Replaced the flipper coil sleeve\n\n📎 [Problem Report #12](https://flipfix.example.org/problem-reports/12): Stuck Ball: Ball stuck behind the upper flipper, again, and th...\n\n— Bob, Cy',
    );
    expect(main(formatPost(logEntry({ maintainerNames: [] }), { baseUrl: BASE })).description).toMatch(/— Anonymous$/);
  });

  it('part request: 📦 with and without machine, status field', () => {
    const e = main(formatPost(partRequest(), { baseUrl: BASE }));
    expect(e.title).toBe('📦 Parts Request for EBD');
    expect(e.color).toBe(3447003);
    expect(e.description).toBe('Two #44 bulbs\n\n— Dee');
    expect(e.fields).toEqual([{ name: 'Status', value: 'Requested', inline: true }]);
    expect(main(formatPost(partRequest({ machine: null }), { baseUrl: BASE })).title).toBe('📦 Parts Request');
  });

  it('part request update: 💬, status line, 📎 to the request, poster', () => {
    const e = main(formatPost(partUpdate({ newStatus: 'ordered', requestStatus: 'ordered' }), { baseUrl: BASE }));
    expect(e.title).toBe('💬 Update on Parts Request for EBD');
    expect(e.description).toBe(
      'Ordered from the usual supplier\n\nStatus → Ordered\n\n📎 [Parts Request #3](https://flipfix.example.org/part-requests/3): Two #44 bulbs\n\n— Eve',
    );
    expect(main(formatPost(partUpdate({ machine: null }), { baseUrl: BASE })).title).toBe('💬 Update on Parts Request');
  });

  it('renders record links from the resolved targets, a missing one as *[broken link]*', () => {
    const links = {
      'problem:4': { id: 4, label: 'Problem #4: Left flipper weak', url: `${BASE}/problem-reports/4` },
      'machine:id:7': { id: 7, label: 'Eight Ball Deluxe', url: `${BASE}/machines/eight-ball-deluxe` },
    };
    const e = main(formatPost(logEntry({ text: 'Same fault as [[problem:4]] on [[machine:id:7]], see [[log:99]]', links }), { baseUrl: BASE }));
    expect(e.description).toBe(
      `Same fault as [Problem #4: Left flipper weak](${BASE}/problem-reports/4) on [Eight Ball Deluxe](${BASE}/machines/eight-ball-deluxe), see *[broken link]*\n\n— Bob, Cy`,
    );
  });

  it('the 📎 preview is cut after links are rendered, never inside one', () => {
    const links = { 'machine:id:3': { id: 3, label: 'Medieval Madness (Remake, Limited Edition)', url: `${BASE}/machines/mm` } };
    const e = main(
      formatPost(
        logEntry({
          links,
          problemReport: { label: 'Problem Report #2', url: `${BASE}/problem-reports/2`, lead: null, text: 'Flipper weak on [[machine:id:3]] since the last tournament' },
        }),
        { baseUrl: BASE },
      ),
    );
    expect(e.description).toContain('): Flipper weak on Medieval Madness (Remake, Limited ...\n\n');
    expect(e.description).not.toContain('[[');
  });

  it('relative photo paths are made absolute with the site URL; gallery embeds carry the colour', () => {
    const body = formatPost(problemReport({ photoUrls: ['/media/a_thumb.jpg', 'https://img.example.org/b.jpg'] }), { baseUrl: `${BASE}/` });
    expect(body.embeds!.map((x) => x.image?.url)).toEqual([`${BASE}/media/a_thumb.jpg`, 'https://img.example.org/b.jpg']);
    expect(body.embeds![1]).toEqual({ url: `${BASE}/problem-reports/12`, image: { url: 'https://img.example.org/b.jpg' }, color: 15158332 });
  });
});

describe('formatPost: better than Flipfix', () => {
  it('closed problem reports are green and say so; priority and claim show as fields', () => {
    const e = main(formatPost(problemReport({ status: 'closed', priority: 'major', claimedByName: 'Bob' }), { baseUrl: BASE }));
    expect(e.color).toBe(COLORS.resolved);
    expect(e.fields).toEqual([
      { name: 'Status', value: 'Closed', inline: true },
      { name: 'Priority', value: 'Major', inline: true },
      { name: 'Claimed by', value: 'Bob', inline: true },
    ]);
    expect(main(formatPost(problemReport(), { baseUrl: BASE })).fields).toEqual([{ name: 'Status', value: 'Open', inline: true }]);
  });

  it('uses the whole 4096 description budget, cut on a word, keeping 📎 and attribution', () => {
    const words = Array.from({ length: 2000 }, (_, i) => `word${i}`).join(' ');
    const e = main(
      formatPost(logEntry({ text: words, problemReport: { label: 'Problem Report #1', url: `${BASE}/problem-reports/1`, lead: null, text: 'x' } }), {
        baseUrl: BASE,
      }),
    );
    expect(e.description!.length).toBeLessThanOrEqual(4091);
    expect(e.description!.length).toBeGreaterThan(4000);
    const [body, ...tail] = e.description!.split('\n\n');
    expect(body).toMatch(/ word\d+\.\.\.$/);
    expect(tail).toEqual(['📎 [Problem Report #1](https://flipfix.example.org/problem-reports/1): x', '— Bob, Cy']);
  });

  it('a gallery of at most 4 photos; extra embeds share the main url', () => {
    const photos = (n: number) => Array.from({ length: n }, (_, i) => `https://img.example.org/p${i}.jpg`);
    const one = formatPost(logEntry({ photoUrls: photos(1) }), { baseUrl: BASE });
    expect(one.embeds).toHaveLength(1);
    expect(main(one).image).toEqual({ url: 'https://img.example.org/p0.jpg' });

    for (const n of [4, 7]) {
      const body = formatPost(logEntry({ photoUrls: photos(n) }), { baseUrl: BASE });
      expect(body.embeds).toHaveLength(4);
      expect(body.embeds!.map((e) => e.image?.url)).toEqual(photos(4));
      for (const extra of body.embeds!.slice(1)) expect(extra).toEqual({ url: main(body).url, image: { url: extra.image!.url }, color: 3447003 });
    }
  });

  it('skips photo URLs that are not http(s)', () => {
    const body = formatPost(logEntry({ photoUrls: ['javascript:alert(1)', 'data:image/png;base64,AAAA', 'ftp://x/y.png', 'https://ok.example.org/a.png'] }), {
      baseUrl: BASE,
    });
    expect(body.embeds).toHaveLength(1);
    expect(main(body).image?.url).toBe('https://ok.example.org/a.png');
  });

  it('bot mode: link button plus claim/close on open reports', () => {
    const body = formatPost(problemReport(), { baseUrl: BASE });
    const b = buttons(body);
    expect(b.map((x) => x.label)).toEqual(['View in Flipfix', 'Claim', 'Close']);
    expect(b[0]).toMatchObject({ style: 5, url: `${BASE}/problem-reports/12` });
    expect(b.slice(1).map((x) => parseCustomId(x.custom_id))).toEqual([
      { action: 'claim', entity: 'problem_report', id: 12 },
      { action: 'close', entity: 'problem_report', id: 12 },
    ]);
    expect(b[1]).not.toHaveProperty('disabled', true);
    const claimed = buttons(formatPost(problemReport({ claimedByName: 'Bob' }), { baseUrl: BASE }));
    expect(claimed[1]).toMatchObject({ label: 'Claim', disabled: true });
    const closed = buttons(formatPost(problemReport({ status: 'closed' }), { baseUrl: BASE }));
    expect(closed.map((x) => x.label)).toEqual(['View in Flipfix', 'Reopen']);
    expect(parseCustomId(closed[1]!.custom_id)).toEqual({ action: 'reopen', entity: 'problem_report', id: 12 });
  });

  it('part request buttons follow its status', () => {
    const label = (status: PartRequestPost['status']) => buttons(formatPost(partRequest({ status }), { baseUrl: BASE })).map((x) => x.label);
    expect(label('requested')).toEqual(['View in Flipfix', 'Mark ordered']);
    expect(label('ordered')).toEqual(['View in Flipfix', 'Mark received']);
    expect(label('received')).toEqual(['View in Flipfix']);
    expect(buttons(formatPost(partUpdate(), { baseUrl: BASE })).map((x) => x.label)).toEqual(['View in Flipfix']);
  });

  it('webhook mode and buttons:false send no components', () => {
    expect(formatPost(problemReport(), { baseUrl: BASE, mode: 'webhook' }).components).toBeUndefined();
    expect(formatPost(problemReport(), { baseUrl: BASE, buttons: false }).components).toBeUndefined();
  });

  it('pings the configured role only for unplayable problem reports', () => {
    const roleMention = { roleId: '1234567890123456789' };
    const unplayable = formatPost(problemReport({ priority: 'unplayable' }), { baseUrl: BASE, roleMention });
    expect(unplayable.content).toBe('<@&1234567890123456789>');
    expect(unplayable.allowed_mentions).toEqual({ parse: [], roles: ['1234567890123456789'] });
    for (const subject of [problemReport({ priority: 'major' }), logEntry(), partRequest(), partUpdate()] as PostSubject[]) {
      const body = formatPost(subject, { baseUrl: BASE, roleMention });
      expect(body.content).toBeUndefined();
      expect(body.allowed_mentions).toEqual({ parse: [] });
    }
    const bogus = formatPost(problemReport({ priority: 'unplayable' }), { baseUrl: BASE, roleMention: { roleId: 'everyone' } });
    expect(bogus.content).toBeUndefined();
    expect(bogus.allowed_mentions).toEqual({ parse: [] });
  });

  it('status edits keep the layout, update colour and buttons, and never re-ping', () => {
    const edit = formatStatusEdit(problemReport({ status: 'closed', priority: 'unplayable' }), { baseUrl: BASE, roleMention: { roleId: '1234567890123456789' } });
    expect(edit.content).toBeUndefined();
    expect(edit.allowed_mentions).toEqual({ parse: [] });
    expect(edit.embeds![0]!.title).toBe('⚠️ EBD');
    expect(edit.embeds![0]!.color).toBe(COLORS.resolved);
    expect(buttons(edit).map((b) => b.label)).toEqual(['View in Flipfix', 'Reopen']);
    expect(formatStatusEdit(problemReport(), { baseUrl: BASE, buttons: false }).components).toEqual([]);
    expect(formatStatusEdit(problemReport(), { baseUrl: BASE, mode: 'webhook' })).not.toHaveProperty('components');
    expect(validateMessageBody(edit, { kind: 'edit' })).toEqual([]);
  });
});

describe('threadName', () => {
  it('is emoji, machine and the first words, within 100 characters', () => {
    expect(threadName(problemReport())).toBe('⚠️ EBD: Stuck Ball: Ball stuck behind the upper flipper');
    const long = threadName(problemReport({ description: 'word '.repeat(100), machine: { id: 1, name: 'M'.repeat(300), shortName: null } }));
    expect(long.length).toBeLessThanOrEqual(100);
    expect(long.startsWith('⚠️ MMM')).toBe(true);
  });

  it('cannot ping: @everyone, @here and mention syntax in user text are broken up', () => {
    const name = threadName(problemReport({ description: '@everyone look <@123456789012345678> <@&123456789012345678> @here' }));
    expect(name).not.toMatch(/@everyone|@here|<@/);
    expect(name).toContain('@\u200beveryone');
  });
});

describe('the reporter\'s private contact', () => {
  it('appears in no post, edit, webhook body, digest or thread name', () => {
    const contact = 'secret-contact@example.com';
    for (const reporterName of [null, '', '  ', 'Ada']) {
      const subject = problemReport({ reporterName, reporterContact: contact });
      const bodies = [
        formatPost(subject, { baseUrl: BASE }),
        formatPost(subject, { baseUrl: BASE, mode: 'webhook' }),
        formatStatusEdit(subject, { baseUrl: BASE }),
        formatDigest([{ subject, eventType: 'problem_report_created' }], { baseUrl: BASE }),
        threadName(subject),
      ];
      expect(JSON.stringify(bodies)).not.toContain('secret-contact');
    }
  });
});

describe('formatTestMessage', () => {
  it("is Flipfix's purple test message, showing the test image, for every event type", () => {
    for (const type of ['problem_report_created', 'log_entry_created', 'part_request_created', 'part_request_update_created', 'problem_report_status_changed'] as const) {
      const body = formatTestMessage(type, BASE);
      const e = main(body);
      expect(e.color).toBe(7506394);
      expect(e.title).toMatch(/^Test: /);
      expect(e.image?.url).toBe(`${BASE}/static/flipfix-test-photo.png`);
      expect(e.description).toContain(`preview of this image: ${BASE}/static/flipfix-test-photo.png\n\n`);
      expect(buttons(body).every((b) => b.style === 5)).toBe(true);
      expect(validateMessageBody(body)).toEqual([]);
    }
  });
});

describe('formatDigest', () => {
  it('groups one actor’s work by machine', () => {
    const other = { id: 8, name: 'Medieval Madness', shortName: 'MM' };
    const items = [
      { subject: logEntry({ id: 1, url: `${BASE}/log-entries/1` }), eventType: 'log_entry_created' as const },
      { subject: logEntry({ id: 2, machine: other, url: `${BASE}/log-entries/2` }), eventType: 'log_entry_created' as const },
      { subject: problemReport({ status: 'closed' }), eventType: 'problem_report_status_changed' as const },
    ];
    const body = formatDigest(items, { baseUrl: BASE, actorName: 'Alice' });
    const e = main(body);
    expect(e.title).toBe('🧰 Work session by Alice — 3 updates');
    expect(e.fields!.map((f) => f.name)).toEqual(['EBD', 'MM']);
    expect(e.fields![0]!.value.split('\n')).toHaveLength(2);
    expect(e.fields![0]!.value).toContain('✅ [Closed problem report #12');
    expect(e.fields![1]!.value).toContain(`(${BASE}/log-entries/2)`);
    expect(body.allowed_mentions).toEqual({ parse: [] });
    expect(validateMessageBody(body)).toEqual([]);
  });

  it('summarizes overflow beyond 25 fields and 1024-character values', () => {
    const items = Array.from({ length: 400 }, (_, i) => ({
      subject: logEntry({ id: i + 1, machine: { id: i % 40, name: `Machine ${i % 40} ${'x'.repeat(200)}`, shortName: null }, text: 'y'.repeat(500) }),
      eventType: 'log_entry_created' as const,
    }));
    const body = formatDigest(items, { baseUrl: BASE, actorName: 'Alice' });
    expect(validateMessageBody(body)).toEqual([]);
    const fields = main(body).fields!;
    expect(fields.length).toBeLessThanOrEqual(25);
    expect(fields.at(-1)!.value).toMatch(/…and \d+ more updates on \d+ more machines/);
  });
});

// ---------------------------------------------------------------------------
// Property-style: random adversarial inputs never break a limit or ping.

function randomUrl(r: () => number): string {
  const kinds = [
    () => `https://img.example.org/${Math.floor(r() * 1e6)}.png`,
    () => `https://example.org/${'a'.repeat(Math.floor(r() * 3000))}`,
    () => 'javascript:alert(1)',
    () => 'not a url',
    () => '',
    () => `https://example.org/@everyone/(x)`,
    () => `http://user:pw@example.org/x`,
  ];
  return kinds[Math.floor(r() * kinds.length)]!();
}

function randomSubject(r: () => number): PostSubject {
  const text = () => randomText(r, 100_000) + (r() < 0.3 ? ' [[machine:id:1]] [[problem:2]]'.repeat(Math.floor(r() * 300)) : '');
  const name = () => (r() < 0.2 ? null : randomText(r, 1000));
  const machine = () => ({ id: Math.floor(r() * 100), name: randomText(r, 300), shortName: r() < 0.5 ? null : randomText(r, 300) });
  const common = {
    url: r() < 0.85 ? `${BASE}/x/${Math.floor(r() * 1000)}` : randomUrl(r),
    photoUrls: Array.from({ length: Math.floor(r() * 50) }, () => randomUrl(r)),
    createdAt: r() < 0.95 ? AT : new Date(Number.NaN),
    links: r() < 0.5 ? {} : { 'machine:id:1': { id: 1, label: randomText(r, 500), url: r() < 0.5 ? `${BASE}/machines/x` : randomUrl(r) } },
  };
  const linked = () => ({ label: randomText(r, 500), url: r() < 0.8 ? `${BASE}/p/1` : randomUrl(r), lead: r() < 0.5 ? null : randomText(r, 50), text: text() });
  switch (Math.floor(r() * 4)) {
    case 0:
      return problemReport({
        ...common,
        machine: machine(),
        description: text(),
        reporterName: name(),
        reporterContact: name(),
        claimedByName: name(),
        priority: (['untriaged', 'unplayable', 'major', 'minor', 'task'] as const)[Math.floor(r() * 5)]!,
        status: r() < 0.5 ? 'open' : 'closed',
        problemType: (['stuck_ball', 'no_credits', 'other'] as const)[Math.floor(r() * 3)]!,
      });
    case 1:
      return logEntry({ ...common, machine: machine(), text: text(), maintainerNames: Array.from({ length: Math.floor(r() * 30) }, () => randomText(r, 1000)), problemReport: r() < 0.5 ? linked() : null });
    case 2:
      return partRequest({ ...common, machine: r() < 0.3 ? null : machine(), text: text(), requestedByName: name() });
    default:
      return partUpdate({ ...common, machine: r() < 0.3 ? null : machine(), text: text(), postedByName: name(), newStatus: r() < 0.5 ? null : 'received', partRequest: linked() });
  }
}

const LONE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const PING = /@(everyone|here)|<@/i;

function texts(body: RESTPostAPIChannelMessageJSONBody): string[] {
  const out: string[] = [];
  for (const e of body.embeds ?? []) {
    out.push(e.title ?? '', e.description ?? '', e.footer?.text ?? '', e.author?.name ?? '');
    for (const f of e.fields ?? []) out.push(f.name, f.value);
  }
  for (const b of buttons(body)) out.push(b.label ?? '');
  return out;
}

function assertSafe(body: RESTPostAPIChannelMessageJSONBody, seed: number) {
  expect(validateMessageBody(body), `seed ${seed}`).toEqual([]);
  expect(body.allowed_mentions?.parse, `seed ${seed}`).toEqual([]);
  for (const t of texts(body)) {
    expect(LONE.test(t), `lone surrogate, seed ${seed}`).toBe(false);
    expect(PING.test(t), `ping in ${JSON.stringify(t.slice(0, 80))}, seed ${seed}`).toBe(false);
    expect([...t].length).toBeLessThanOrEqual(t.length);
  }
  const cp = (body.embeds ?? []).reduce((n, e) => n + embedLength(e), 0);
  expect(cp).toBeLessThanOrEqual(DISCORD_LIMITS.embedTotal);
  expect((body.embeds ?? []).filter((e) => e.image).length).toBeLessThanOrEqual(4);
}

describe('every limit holds for adversarial input', () => {
  it('formatPost, formatStatusEdit, threadName over 300 random subjects', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const r = rng(seed);
      const subject = randomSubject(r);
      const mode = r() < 0.5 ? 'bot' : 'webhook';
      const body = formatPost(subject, { baseUrl: BASE, mode, roleMention: { roleId: '1234567890123456789' } });
      assertSafe(body, seed);
      if (body.content !== undefined) {
        expect(body.content).toBe('<@&1234567890123456789>');
        expect(subject.kind === 'problem_report' && subject.priority === 'unplayable').toBe(true);
      } else {
        expect(body.allowed_mentions).toEqual({ parse: [] });
      }
      const edit = formatStatusEdit(subject, { baseUrl: BASE, mode });
      expect(validateMessageBody(edit, { kind: 'edit' }), `seed ${seed}`).toEqual([]);
      const name = threadName(subject);
      expect(name.length).toBeLessThanOrEqual(100);
      expect(name.length).toBeGreaterThan(0);
      expect(LONE.test(name)).toBe(false);
    }
  });

  it('formatDigest over random batches', () => {
    for (let seed = 1000; seed < 1040; seed++) {
      const r = rng(seed);
      const items = Array.from({ length: 1 + Math.floor(r() * 60) }, () => ({ subject: randomSubject(r), eventType: 'log_entry_created' as const }));
      assertSafe(formatDigest(items, { baseUrl: BASE, actorName: randomText(r, 2000) }), seed);
    }
  });
});
