/**
 * Flipfix's own formatter tests (The-Flip/flipfix,
 * flipfix/apps/discord/tests/test_formatters.py, 28 cases), ported case by
 * case: the same records are written to our database, loaded and formatted as
 * the worker does, and the post must be the embed Flipfix's formatter writes
 * for them, field by field (title, url, colour, description, image, gallery).
 * Each expected embed below is Flipfix's output, worked out from its
 * formatters.py, webhook_handlers/*.py and core/markdown_links.py.
 *
 * Where we differ on purpose, the case names the difference, and
 * docs/FLIPFIX-PARITY.md must list that case with its reason (checked here).
 * Our own additions (status fields, footer, timestamp, buttons) are outside
 * Flipfix's fields and are left out of the comparison.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BaseEnv } from '@flipfix/config';
import {
  createLogEntry,
  createMachine,
  createPartRequest,
  createPartRequestUpdate,
  createProblemReport,
  createTestDatabase,
  type Db,
  loadPostSubject,
  type PostSubjectRef,
} from '@flipfix/db';
import { formatPost, formatTestMessage, TEST_IMAGE_PATH } from '@flipfix/discord';
import type { APIEmbed } from 'discord-api-types/v10';

const SITE = 'https://example.com';
const PARITY_DOC = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../../docs/FLIPFIX-PARITY.md');

/** Why a case's expected output is not Flipfix's, one key per reason given in docs/FLIPFIX-PARITY.md. */
type Difference = 'record-urls' | 'no-word-cap' | 'test-message-paths';

/** Flipfix's embed fields (the ones its formatter writes). */
type FlipfixEmbed = Pick<APIEmbed, 'title' | 'description' | 'url' | 'color' | 'image'>;

interface Ids {
  machine: number;
  afm: number;
  record: number;
  linked: number;
}

interface ParityCase {
  /** Flipfix's test, as named in test_formatters.py. */
  flipfix: string;
  /** Writes the records; returns the post's event and the ids the expectation needs. */
  setup(db: Db, machine: number, afm: number): Promise<{ ref: PostSubjectRef; record: number; linked?: number }>;
  /** What Flipfix's formatter writes for those records. */
  expected(ids: Ids): FlipfixEmbed[];
  /** What we write instead, where we differ on purpose (default: Flipfix's, with our record URLs). */
  ours?: (ids: Ids) => FlipfixEmbed[];
  differences: Difference[];
}

const RED = 15158332;
const BLUE = 3447003;
const PR_TEXT = 'Test problem report 7d3a9c01';
const LOG_TEXT = 'Test log entry 5e21aa90';
const USER = 'Test User';

// Flipfix's URL patterns (trailing slashes; updates open their part request) mapped to our record pages.
function ourUrls(embeds: FlipfixEmbed[], ids: Ids, kind: 'problem' | 'log' | 'part' | 'update'): FlipfixEmbed[] {
  let json = JSON.stringify(embeds);
  if (kind === 'update') json = json.replaceAll(`"url":"${SITE}/parts/${ids.linked}/"`, `"url":"${SITE}/part-requests/${ids.linked}#update-${ids.record}"`);
  json = json
    .replace(/\/problem-reports\/(\d+)\//g, '/problem-reports/$1')
    .replace(/\/logs\/(\d+)\//g, '/log-entries/$1')
    .replace(/\/parts\/(\d+)\//g, '/part-requests/$1')
    .replace(/\/machines\/([a-z0-9-]+)\//g, '/machines/$1');
  return JSON.parse(json) as FlipfixEmbed[];
}

const photos = (n: number, dir: string) => Array.from({ length: n }, (_, i) => `/media/${dir}/test${i}_thumb.jpg`);
function gallery(main: FlipfixEmbed, paths: string[], color: number): FlipfixEmbed[] {
  const [first, ...rest] = paths;
  if (first === undefined) return [main];
  return [{ ...main, image: { url: SITE + first } }, ...rest.map((p) => ({ url: main.url, image: { url: SITE + p }, color }) as FlipfixEmbed)];
}

const problemReportCase = (flipfix: string, photoPaths: string[]): ParityCase => ({
  flipfix,
  async setup(db, machine) {
    const r = await createProblemReport(db, { machineId: machine, description: PR_TEXT, problemType: 'other', photoUrls: photoPaths });
    return { ref: { type: 'problem_report_created', entityType: 'problem_report', entityId: r.id }, record: r.id };
  },
  expected: (ids) =>
    gallery({ title: '⚠️ Test Machine', description: `${PR_TEXT}\n\n— Anonymous`, url: `${SITE}/problem-reports/${ids.record}/`, color: RED }, photoPaths, RED),
  differences: ['record-urls'],
});

const logEntryCase = (flipfix: string, text: string, options: { photos?: string[]; names?: string[]; report?: string; description?: (ids: Ids) => string } = {}): ParityCase => ({
  flipfix,
  async setup(db, machine, afm) {
    const report = options.report === undefined ? null : await createProblemReport(db, { machineId: machine, description: options.report.replace('{afm}', String(afm)) });
    const e = await createLogEntry(db, {
      machineId: machine,
      text: text.replace('{afm}', String(afm)),
      maintainerNames: options.names ?? [USER],
      photoUrls: options.photos ?? [],
      ...(report === null ? {} : { problemReportId: report.id }),
    });
    return { ref: { type: 'log_entry_created', entityType: 'log_entry', entityId: e.id }, record: e.id, ...(report === null ? {} : { linked: report.id }) };
  },
  expected: (ids) =>
    gallery(
      {
        title: '🗒️ Test Machine',
        description: options.description?.(ids) ?? `${text}\n\n— ${(options.names ?? [USER]).join(', ')}`,
        url: `${SITE}/logs/${ids.record}/`,
        color: BLUE,
      },
      options.photos ?? [],
      BLUE,
    ),
  differences: ['record-urls'],
});

const partRequestCase = (flipfix: string, text: string, options: { photos?: string[]; description?: string } = {}): ParityCase => ({
  flipfix,
  async setup(db, machine, afm) {
    const p = await createPartRequest(db, { machineId: machine, text: text.replace('{afm}', String(afm)), requestedByName: USER, photoUrls: options.photos ?? [] });
    return { ref: { type: 'part_request_created', entityType: 'part_request', entityId: p.id }, record: p.id };
  },
  expected: (ids) =>
    gallery(
      { title: '📦 Parts Request for Test Machine', description: options.description ?? `${text}\n\n— ${USER}`, url: `${SITE}/parts/${ids.record}/`, color: BLUE },
      options.photos ?? [],
      BLUE,
    ),
  differences: ['record-urls'],
});

const updateCase = (flipfix: string, text: string, requestText: string, options: { photos?: string[]; body?: string; preview?: string } = {}): ParityCase => ({
  flipfix,
  async setup(db, machine, afm) {
    const p = await createPartRequest(db, { machineId: machine, text: requestText.replace('{afm}', String(afm)), requestedByName: USER });
    const u = await createPartRequestUpdate(db, p.id, { text: text.replace('{afm}', String(afm)), postedByName: USER, photoUrls: options.photos ?? [] });
    return { ref: { type: 'part_request_update_created', entityType: 'part_request_update', entityId: u.id }, record: u.id, linked: p.id };
  },
  expected: (ids) =>
    gallery(
      {
        title: '💬 Update on Parts Request for Test Machine',
        description: `${options.body ?? text}\n\n📎 [Parts Request #${ids.linked}](${SITE}/parts/${ids.linked}/): ${options.preview ?? requestText}\n\n— ${USER}`,
        url: `${SITE}/parts/${ids.linked}/`,
        color: BLUE,
      },
      options.photos ?? [],
      BLUE,
    ),
  differences: ['record-urls'],
});

const AFM_LINK = `[Attack From Mars](${SITE}/machines/attack-from-mars/)`;
const linkedReport = (ids: Ids, text: string) => `📎 [Problem Report #${ids.linked}](${SITE}/problem-reports/${ids.linked}/): ${text}`;
const words500 = Array.from({ length: 500 }, (_, i) => `word${i}`).join(' ');
const B5000 = 'B'.repeat(5000);
const C5000 = 'C'.repeat(5000);
// Flipfix: the body is cut to 4096 - 5 - len(suffix) - len("\n\n") characters, the last 3 being "...".
const cutTo = (body: string, suffix: string) => `${body.slice(0, 4096 - 5 - suffix.length - 2 - 3)}...`;

const CASES: ParityCase[] = [
  problemReportCase('test_format_problem_report_created', []),
  problemReportCase('test_format_problem_report_with_photos', photos(3, 'problem_reports')),
  // A photo without a thumbnail is not posted by Flipfix; our records hold only what is posted (the thumbnail).
  problemReportCase('test_format_problem_report_excludes_photos_without_thumbnails', ['/media/problem_reports/thumb.jpg']),
  logEntryCase('test_format_log_entry_created', LOG_TEXT),
  logEntryCase('test_format_log_entry_with_problem_report', LOG_TEXT, {
    report: PR_TEXT,
    description: (ids) => `${LOG_TEXT}\n\n${linkedReport(ids, PR_TEXT)}\n\n— ${USER}`,
  }),
  logEntryCase('test_format_log_entry_with_photos', LOG_TEXT, { photos: photos(3, 'log_entries') }),
  logEntryCase('test_format_log_entry_excludes_photos_without_thumbnails', LOG_TEXT, { photos: ['/media/log_entries/thumb.jpg'] }),
  // Flipfix shows a linked Discord account's display name; our records hold the name to show.
  logEntryCase('test_format_log_entry_uses_discord_name_when_linked', LOG_TEXT, { names: ['Discord Display Name'] }),
  logEntryCase('test_log_entry_no_truncation_when_under_limit', 'A'.repeat(3000)),
  {
    ...logEntryCase('test_log_entry_capped_to_a_couple_hundred_words', words500, {
      description: () => `${words500.split(' ').slice(0, 200).join(' ')}…\n\n— ${USER}`,
    }),
    ours: (ids) => [{ title: '🗒️ Test Machine', description: `${words500}\n\n— ${USER}`, url: `${SITE}/log-entries/${ids.record}`, color: BLUE }],
    differences: ['record-urls', 'no-word-cap'],
  },
  logEntryCase('test_log_entry_truncates_description_preserving_attribution', B5000, { description: () => `${cutTo(B5000, `— ${USER}`)}\n\n— ${USER}` }),
  {
    ...logEntryCase('test_log_entry_truncates_preserving_linked_record', C5000, {
      report: PR_TEXT,
      description: (ids) => {
        const suffix = `${linkedReport(ids, PR_TEXT)}\n\n— ${USER}`;
        return `${cutTo(C5000, suffix)}\n\n${suffix}`;
      },
    }),
    // Flipfix's cut, worked out with our (one character shorter) record URL in the 📎 line.
    ours: (ids) => {
      const suffix = `📎 [Problem Report #${ids.linked}](${SITE}/problem-reports/${ids.linked}): ${PR_TEXT}\n\n— ${USER}`;
      return [{ title: '🗒️ Test Machine', description: `${cutTo(C5000, suffix)}\n\n${suffix}`, url: `${SITE}/log-entries/${ids.record}`, color: BLUE }];
    },
  },
  {
    flipfix: 'test_format_test_message',
    setup: async () => ({ ref: { type: 'problem_report_created', entityType: 'problem_report', entityId: 0 }, record: 0 }),
    expected: () => [testMessage('/static/core/images/test/test_discord_post.jpg', `${SITE}/media/`)],
    ours: () => [testMessage(TEST_IMAGE_PATH, `${SITE}/`)],
    differences: ['test-message-paths'],
  },
  logEntryCase('test_format_log_entry_renders_record_links', 'Fixed it. See [[machine:id:{afm}]] for related issue.', {
    description: () => `Fixed it. See ${AFM_LINK} for related issue.\n\n— ${USER}`,
  }),
  logEntryCase('test_format_log_entry_renders_links_in_linked_record_preview', LOG_TEXT, {
    report: 'See [[machine:id:{afm}]] for context',
    description: (ids) => `${LOG_TEXT}\n\n${linkedReport(ids, 'See Attack From Mars for context')}\n\n— ${USER}`,
  }),
  {
    flipfix: 'test_format_problem_report_renders_record_links',
    async setup(db, machine, afm) {
      const r = await createProblemReport(db, { machineId: machine, description: `Same issue as [[machine:id:${afm}]]` });
      return { ref: { type: 'problem_report_created', entityType: 'problem_report', entityId: r.id }, record: r.id };
    },
    expected: (ids) => [{ title: '⚠️ Test Machine', description: `Same issue as ${AFM_LINK}\n\n— Anonymous`, url: `${SITE}/problem-reports/${ids.record}/`, color: RED }],
    differences: ['record-urls'],
  },
  partRequestCase('test_format_part_request_created', 'Need new flipper rubbers'),
  updateCase('test_format_part_request_update_created', 'Ordered from Marco Specialties', 'Need new flipper rubbers'),
  partRequestCase('test_format_part_request_with_photos', 'Need new flipper rubbers', { photos: photos(3, 'parts') }),
  partRequestCase('test_format_part_request_excludes_photos_without_thumbnails', 'Need new flipper rubbers', { photos: ['/media/parts/thumb.jpg'] }),
  updateCase('test_format_part_request_update_with_photos', 'Ordered from Marco Specialties', 'Need new flipper rubbers', { photos: photos(3, 'part_updates') }),
  updateCase('test_format_part_request_update_excludes_photos_without_thumbnails', 'Ordered from Marco Specialties', 'Need new flipper rubbers', {
    photos: ['/media/part_updates/thumb.jpg'],
  }),
  partRequestCase('test_format_part_request_renders_record_links', 'Need parts for [[machine:id:{afm}]] left flipper', {
    description: `Need parts for ${AFM_LINK} left flipper\n\n— ${USER}`,
  }),
  updateCase('test_format_part_request_update_renders_record_links', 'Ordered parts for [[machine:id:{afm}]]', 'Need parts', { body: `Ordered parts for ${AFM_LINK}` }),
  updateCase('test_format_part_request_update_renders_links_in_linked_record_preview', 'Ordered from supplier', 'Need parts for [[machine:id:{afm}]]', {
    preview: 'Need parts for Attack From Mars',
  }),
];

function testMessage(imagePath: string, prefix: string): FlipfixEmbed {
  return {
    title: 'Test: Problem Report',
    description:
      'This is a test message from Flipfix.\n\n' +
      `If your server URLs are configured correctly, this post should show a preview of this image: ${SITE}${imagePath}\n\n` +
      '**Machine:** Test Machine\n**Location:** Test Location\n' +
      `**Image Prefix:** ${prefix} (will not be the same path as the test image above)`,
    color: 7506394,
    image: { url: `${SITE}${imagePath}` },
  };
}

/** Our embeds, restricted to the fields Flipfix writes. */
function flipfixFields(embeds: readonly APIEmbed[]): FlipfixEmbed[] {
  return embeds.map(({ title, description, url, color, image }) => {
    const out: FlipfixEmbed = {};
    if (title !== undefined) out.title = title;
    if (description !== undefined) out.description = description;
    if (url !== undefined) out.url = url;
    if (color !== undefined) out.color = color;
    if (image !== undefined) out.image = { url: image.url };
    return out;
  });
}

let t: Awaited<ReturnType<typeof createTestDatabase>>;
let machine: number;
let afm: number;
beforeAll(async () => {
  t = await createTestDatabase();
  machine = (await createMachine(t.db, { name: 'Test Machine' })).id;
  afm = (await createMachine(t.db, { name: 'Attack From Mars', slug: 'attack-from-mars' })).id;
});
afterAll(() => t?.drop());

const KIND = { problem_report: 'problem', log_entry: 'log', part_request: 'part', part_request_update: 'update' } as const;

describe("Flipfix's formatter tests, case by case", () => {
  it('ports all 28 of them (25 formatter cases here, the 3 GetBaseUrlTests below)', () => {
    expect(new Set(CASES.map((c) => c.flipfix)).size).toBe(25);
  });

  for (const c of CASES) {
    it(c.flipfix, async () => {
      const setup = await c.setup(t.db, machine, afm);
      const ids: Ids = { machine, afm, record: setup.record, linked: setup.linked ?? 0 };
      let embeds: APIEmbed[];
      if (c.flipfix === 'test_format_test_message') {
        embeds = formatTestMessage('problem_report_created', SITE).embeds ?? [];
      } else {
        const subject = await loadPostSubject(t.db.prisma, setup.ref, SITE);
        embeds = formatPost(subject!, { baseUrl: SITE }).embeds ?? [];
      }
      const expected = c.ours?.(ids) ?? ourUrls(c.expected(ids), ids, KIND[setup.ref.entityType]);
      expect(flipfixFields(embeds)).toEqual(expected);
      // The description holds Discord's limit with Flipfix's margin.
      for (const e of embeds) expect((e.description ?? '').length).toBeLessThan(4096);
    });
  }

  // GetBaseUrlTests: our base URL is APP_BASE_URL, read and checked once at start.
  it('GetBaseUrlTests.test_strips_trailing_slash', () => {
    expect(BaseEnv.parse({ APP_BASE_URL: 'https://example.com/' }).APP_BASE_URL).toBe('https://example.com');
  });
  it('GetBaseUrlTests.test_no_trailing_slash_unchanged', () => {
    expect(BaseEnv.parse({ APP_BASE_URL: 'https://example.com' }).APP_BASE_URL).toBe('https://example.com');
  });
  it('GetBaseUrlTests.test_raises_when_not_configured', () => {
    expect(() => BaseEnv.parse({ APP_BASE_URL: '' })).toThrow(/APP_BASE_URL/);
  });

  it('every case that differs from Flipfix is listed in docs/FLIPFIX-PARITY.md with its reason', () => {
    const doc = readFileSync(PARITY_DOC, 'utf8');
    for (const c of CASES) {
      for (const d of c.differences) {
        expect(doc, `${c.flipfix}: ${d}`).toMatch(new RegExp(`\\| \`${c.flipfix}\` \\|[^\\n]*\`${d}\``));
        expect(doc, `reason for ${d}`).toContain(`### \`${d}\``);
      }
    }
  });
});
