/**
 * No link 404s: every URL in every kind of post (new posts in bot and webhook
 * mode, status edits, packed messages, digests, test messages) and every link
 * on every page of the web app (public pages and the console, crawled from
 * their navigation) answers 200 from our web app. Records link to each other
 * with Flipfix's markup, in both forms and to missing records, and show
 * photos by relative path.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createLogEntry,
  createMachine,
  createPartRequest,
  createPartRequestUpdate,
  createProblemReport,
  loadPostSubjects,
  type PostSubjectRef,
  setProblemReportStatus,
} from '@flipfix/db';
import { formatDigest, formatPost, formatStatusEdit, formatTestMessage, packEmbeds, TEST_IMAGE_PATH } from '@flipfix/discord';
import { EVENT_TYPES, type PostSubject } from '@flipfix/events';
import type { RESTPostAPIChannelMessageJSONBody } from 'discord-api-types/v10';
import { call, login, startTestWeb, type TestWeb } from './helpers';

let web: TestWeb;
let refs: PostSubjectRef[];

beforeAll(async () => {
  web = await startTestWeb({ config: { authFailureLimit: { perClient: 50, total: 500, windowSeconds: 60 } } });
  const db = web.db;
  const afm = await createMachine(db, { name: 'Attack From Mars', shortName: 'AFM' });
  const ebd = await createMachine(db, { name: 'Eight Ball Deluxe', shortName: 'EBD' });
  const report = await createProblemReport(db, {
    machineId: ebd.id,
    problemType: 'stuck_ball',
    description: 'Same as on [[machine:attack-from-mars]]; see [[problem:99999]]',
    reporterName: 'Ada',
    photoUrls: [TEST_IMAGE_PATH],
  });
  const entry = await createLogEntry(db, {
    machineId: ebd.id,
    problemReportId: report.id,
    text: `Fixed [[problem:${report.id}]] on [[machine:eight-ball-deluxe]] and [[machine:id:${afm.id}]]`,
    maintainerNames: ['Bob'],
    photoUrls: [TEST_IMAGE_PATH, `${TEST_IMAGE_PATH}?second`],
  });
  const request = await createPartRequest(db, { machineId: afm.id, text: `Coil for [[machine:attack-from-mars]], after [[log:${entry.id}]]`, requestedByName: 'Cy' });
  const update = await createPartRequestUpdate(db, request.id, { text: `Ordered, see [[partrequest:${request.id}]] and [[page:id:1]]`, newStatus: 'ordered', postedByName: 'Dee' });
  const second = await createPartRequestUpdate(db, request.id, { text: `Following [[partrequestupdate:${update.id}]]` });
  await setProblemReportStatus(db, report.id, 'closed', 'Eve');
  refs = [
    { type: 'problem_report_created', entityType: 'problem_report', entityId: report.id },
    { type: 'problem_report_status_changed', entityType: 'problem_report', entityId: report.id },
    { type: 'log_entry_created', entityType: 'log_entry', entityId: entry.id },
    { type: 'part_request_created', entityType: 'part_request', entityId: request.id },
    { type: 'part_request_update_created', entityType: 'part_request_update', entityId: update.id },
    { type: 'part_request_update_created', entityType: 'part_request_update', entityId: second.id },
  ];
});
afterAll(async () => {
  await web?.close();
});

/** Every http(s) URL in a message body: embed and image URLs, Markdown links, bare URLs, buttons. */
function urlsIn(body: unknown): string[] {
  return [...JSON.stringify(body).matchAll(/https?:\/\/[^\s"()<>\\]+/g)].map((m) => m[0]);
}

/** Fetches each URL (following redirects, as Discord's client does); returns those not answering 200. */
async function failing(urls: Iterable<string>, headers: Record<string, string> = {}): Promise<string[]> {
  const bad: string[] = [];
  for (const url of new Set(urls)) {
    const res = await fetch(url, { headers });
    await res.arrayBuffer();
    if (res.status !== 200) bad.push(`${res.status} ${url}`);
  }
  return bad;
}

describe('links in posts', () => {
  it('every URL in every kind of post answers 200, and no raw markup is posted', async () => {
    const subjects = (await loadPostSubjects(web.db.prisma, refs, web.url)).filter((s): s is PostSubject => s !== null);
    expect(subjects).toHaveLength(refs.length);
    const bodies: unknown[] = [];
    const posts: RESTPostAPIChannelMessageJSONBody[] = subjects.map((s) => formatPost(s, { baseUrl: web.url }));
    bodies.push(...posts);
    bodies.push(...subjects.map((s) => formatPost(s, { baseUrl: web.url, mode: 'webhook' })));
    bodies.push(...subjects.map((s) => formatStatusEdit(s, { baseUrl: web.url })));
    bodies.push(...packEmbeds(posts).messages.map((m) => m.body));
    bodies.push(formatDigest(subjects.map((subject, i) => ({ subject, eventType: refs[i]!.type })), { baseUrl: web.url, actorName: 'Bob' }));
    bodies.push(...EVENT_TYPES.map((type) => formatTestMessage(type, web.url)));

    const text = JSON.stringify(bodies);
    expect(text).not.toContain('[[');
    expect(text).toContain('*[broken link]*');
    expect(text).toContain(`[Attack From Mars](${web.url}/machines/attack-from-mars)`);
    expect(text).toContain(`${web.url}/static/flipfix-test-photo.png?second`);
    const urls = bodies.flatMap(urlsIn);
    expect(urls.every((u) => u.startsWith(`${web.url}/`)), urls.filter((u) => !u.startsWith(web.url)).join(' ')).toBe(true);
    const paths = new Set(urls.map((u) => u.slice(web.url.length)));
    // Record pages of every kind, machine pages by slug, the test image (as a photo and in test messages), the site.
    for (const p of ['/', '/machines/attack-from-mars', '/machines/eight-ball-deluxe', '/problem-reports/1', '/log-entries/1', '/part-requests/1', '/part-requests/1#update-1', '/static/flipfix-test-photo.png']) {
      expect(paths, p).toContain(p);
    }
    expect(await failing(urls)).toEqual([]);
  });
});

describe('links on pages', () => {
  it('crawling every public page and the console from their navigation finds no link that fails', async () => {
    const { cookie } = await login(web.url);
    const origin = new URL(web.url).origin;
    const seen = new Set<string>();
    const queue = ['/', '/admin'];
    const broken: string[] = [];
    let pages = 0;
    while (queue.length > 0 && seen.size < 400) {
      const path = queue.shift()!;
      if (seen.has(path)) continue;
      seen.add(path);
      const res = await fetch(origin + path, { headers: { cookie } });
      const body = await res.text();
      if (res.status !== 200) {
        broken.push(`${res.status} ${path}`);
        continue;
      }
      if (!(res.headers.get('content-type') ?? '').includes('text/html')) continue;
      pages++;
      // Outside <code> (a machine's page shows how to link to it), no markup shows.
      expect(body.replace(/<code>[^<]*<\/code>/g, ''), path).not.toContain('[[');
      const base = new URL(/<base href="([^"]+)"/.exec(body)?.[1] ?? path, origin + path);
      for (const m of body.matchAll(/(?:href|src)="([^"]+)"/g)) {
        const target = new URL(m[1]!.replaceAll('&amp;', '&'), base);
        target.hash = '';
        // Stay on our app, and out of the job dashboard's own API (it needs its JavaScript's headers).
        if (target.origin !== origin || target.pathname.startsWith('/admin/queues/api')) continue;
        const next = target.pathname + target.search;
        if (!seen.has(next)) queue.push(next);
      }
    }
    expect(broken).toEqual([]);
    expect(pages).toBeGreaterThan(10);
    expect([...seen]).toEqual(expect.arrayContaining(['/machines/attack-from-mars', '/machines/eight-ball-deluxe', '/admin/settings']));
  });
});

describe('authoring and editing', () => {
  it('the API and the forms accept [[machine:slug]] and store [[machine:id:N]]; a link to nothing is a 400 naming the field', async () => {
    const machine = (await call(web.url, 'POST', '/api/machines', { name: 'Twilight Zone', slug: 'tz' })).body;
    expect(machine).toMatchObject({ name: 'Twilight Zone', slug: 'tz' });
    const entry = await call(web.url, 'POST', '/api/log-entries', { machineId: machine.id, text: 'Like [[machine:attack-from-mars]] and [[machine:tz]]' });
    expect(entry.status).toBe(201);
    expect(entry.body.text).toMatch(/^Like \[\[machine:id:\d+\]\] and \[\[machine:id:\d+\]\]$/);
    const bad = await call(web.url, 'POST', '/api/log-entries', { machineId: machine.id, text: 'See [[machine:no-such]]' });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('Machine not found: [[machine:no-such]]');
    expect(JSON.stringify(bad.body)).toContain('text');
    // Whatever stands between the brackets, a link to nothing is the same 400, never a 5xx.
    for (const ref of ['Not A Slug!', '../../etc', 'é', 'x'.repeat(200)]) {
      const res = await call(web.url, 'POST', '/api/log-entries', { machineId: machine.id, text: `See [[machine:${ref}]]` });
      expect(res.status, ref).toBe(400);
    }

    const form = await fetch(`${web.url}/part-requests`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ text: 'Topper for [[machine:tz]]', machineId: String(machine.id) }),
      redirect: 'manual',
    });
    expect(form.status).toBe(303);
    const page = await (await fetch(web.url + form.headers.get('location'))).text();
    expect(page).toContain('Topper for <a href="/machines/tz">Twilight Zone</a>');
    const refused = await fetch(`${web.url}/part-requests`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ text: 'Topper for [[machine:nope]]' }),
    });
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain('Machine not found: [[machine:nope]]');
  });

  it('a slug is editable; the new address answers, the old one does not, and /machines/<id> redirects to it', async () => {
    const machine = (await call(web.url, 'POST', '/api/machines', { name: 'Fish Tales' })).body;
    expect(machine.slug).toBe('fish-tales');
    const patched = await call(web.url, 'PATCH', `/api/machines/${machine.id}`, { slug: 'ft' });
    expect(patched.status).toBe(200);
    expect(patched.body.slug).toBe('ft');
    expect((await fetch(`${web.url}/machines/ft`)).status).toBe(200);
    expect((await fetch(`${web.url}/machines/fish-tales`)).status).toBe(404);
    const byId = await fetch(`${web.url}/machines/${machine.id}`, { redirect: 'manual' });
    expect(byId.status).toBe(301);
    expect(byId.headers.get('location')).toBe('/machines/ft');
    const taken = await call(web.url, 'PATCH', `/api/machines/${machine.id}`, { slug: 'tz' });
    expect(taken.status).toBe(409);
    const invalid = await call(web.url, 'PATCH', `/api/machines/${machine.id}`, { slug: 'Not a slug' });
    expect(invalid.status).toBe(400);
    expect(JSON.stringify(invalid.body)).toContain('slug');

    // The machine's page has the same edit as a form; a refused slug is shown back with the reason.
    const post = (slug: string) =>
      fetch(`${web.url}/machines/ft/slug`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ slug }), redirect: 'manual' });
    const refused = await post('Fish Tales!');
    expect(refused.status).toBe(400);
    const page = await refused.text();
    expect(page).toContain('value="Fish Tales!"');
    expect(page).toContain('Must be lower-case letters');
    const moved = await post('fish-tales-le');
    expect(moved.status).toBe(303);
    expect(moved.headers.get('location')).toBe('/machines/fish-tales-le');
  });
});
