/**
 * Human pages: the link targets of the Discord posts, simple indexes and a
 * start page whose forms work without JavaScript. Everything is rendered with
 * the auto-escaping `html` tag.
 */
import { type Request, type Response, Router } from 'express';
import {
  createLogEntry,
  createPartRequest,
  createPartRequestUpdate,
  createProblemReport,
  type Db,
  getLogEntry,
  getMachine,
  getMachineBySlug,
  getPartRequest,
  getPartRequestUpdate,
  getProblemReport,
  type LogEntryWithRelations,
  listLogEntries,
  listMachines,
  listPartRequests,
  listPartRequestUpdates,
  listProblemReports,
  type Machine,
  type PartRequestWithRelations,
  type ProblemReportWithRelations,
  setProblemReportStatus,
  updateMachine,
} from '@flipfix/db';
import { PART_REQUEST_STATUSES, PROBLEM_REPORT_STATUSES, PROBLEM_TYPE_LABELS, PROBLEM_TYPES } from '@flipfix/events';
import {
  CreateLogEntryBody,
  CreatePartRequestBody,
  CreatePartRequestUpdateBody,
  CreateProblemReportBody,
  PatchMachineBody,
  PatchProblemReportBody,
} from '../http/schemas';
import { parseId } from '../http/validate';
import {
  blankForm,
  fieldErrors,
  type FormState,
  inputField,
  NOT_SAVED,
  selectField,
  textareaField,
  typedValues,
} from '../views/forms';
import { type Html, html, type HtmlValue, safeUrl } from '../views/html';
import { ListPageQuery, listControls, PAGE_SIZE, pageOf } from '../views/lists';
import { layout, when } from '../views/pages-common';
import { linkedText, pageLinks, textPreview } from '../views/record-text';
import type { LinkTargets } from '@flipfix/events';

type Notice = { kind: 'ok' | 'error'; text: string } | null;

/**
 * The home page's three forms, each with what was typed and its errors. Each
 * form posts to an address ending in its own id, so a refused form's page
 * opens scrolled to that form (on a phone the third one is far down).
 */
interface HomeForms {
  problem: FormState;
  log: FormState;
  part: FormState;
}

const BLANK_HOME: HomeForms = { problem: blankForm(), log: blankForm(), part: blankForm() };

function send(res: Response, page: Html, status = 200): void {
  res.status(status).type('html').send(page.toString());
}

function photos(list: readonly { url: string }[]): HtmlValue {
  if (list.length === 0) return '';
  return html`<h2>Photos</h2><div class="photos">${list.map(
    (p) => html`<a href="${safeUrl(p.url)}" rel="noopener noreferrer"><img src="${safeUrl(p.url)}" alt="Photo" loading="lazy" referrerpolicy="no-referrer"></a>`,
  )}</div>`;
}

function machineName(m: { name: string; shortName: string | null } | null): string {
  return m === null ? 'No machine' : m.name;
}

/** A machine's page: `/machines/<slug>`, as in Flipfix. */
function machinePath(m: { slug: string }): string {
  return `/machines/${encodeURIComponent(m.slug)}`;
}

function machineLink(m: { name: string; slug: string } | null): HtmlValue {
  return m === null ? html`<span class="muted">No machine</span>` : html`<a href="${machinePath(m)}">${m.name}</a>`;
}

function badge(value: string): Html {
  return html`<span class="badge ${value}">${value.replaceAll('_', ' ')}</span>`;
}

function names(list: readonly string[], fallback = 'Anonymous'): string {
  return list.length === 0 ? fallback : list.join(', ');
}

/** Splits a textarea into one URL per line. */
function lines(value: unknown): string[] | undefined {
  if (typeof value !== 'string') return undefined;
  const out = value
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '');
  return out.length === 0 ? undefined : out;
}

/** Form fields arrive as strings; empty ones mean "not given". */
function formInput(body: unknown, arrays: Record<string, (v: unknown) => unknown> = {}): Record<string, unknown> {
  const src = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(src)) {
    if (key === '_csrf') continue;
    const convert = arrays[key];
    const v = convert ? convert(value) : value;
    if (v === undefined || v === '') continue;
    out[key] = v;
  }
  return out;
}

const PHOTOS_LABEL = 'Photo URLs (one per line, optional)';

function machineOptions(machines: readonly Machine[]): [string, string][] {
  return machines.map((m) => [String(m.id), m.name]);
}

function homePage(machines: readonly Machine[], notice: Notice, forms: HomeForms = BLANK_HOME): Html {
  const { problem, log, part } = forms;
  const noMachines = machines.length === 0 ? html`<p class="notice error">No machines yet. Add one through <code>POST /api/machines</code>.</p>` : '';
  return layout({
    title: 'Start',
    current: '/',
    notice,
    body: html`<h1>Pinball maintenance</h1>${noMachines}
<div class="grid">
<form class="card" method="post" action="/problem-reports#problem-form" id="problem-form">
  <h2>Report a problem</h2>
  ${selectField(problem, { id: 'pr-machine', name: 'machineId', label: 'Machine', options: machineOptions(machines), attrs: html` required` })}
  ${selectField(problem, { id: 'pr-type', name: 'problemType', label: 'Problem', fallback: 'other', options: PROBLEM_TYPES.map((t) => [t, PROBLEM_TYPE_LABELS[t]] as const) })}
  ${textareaField(problem, { id: 'pr-desc', name: 'description', label: 'What is wrong?', attrs: html` required maxlength="20000"` })}
  ${inputField(problem, { id: 'pr-name', name: 'reporterName', label: 'Your name (optional)', attrs: html` maxlength="200"` })}
  ${inputField(problem, { id: 'pr-contact', name: 'reporterContact', label: 'Contact (optional, only maintainers see it)', attrs: html` maxlength="200"` })}
  ${textareaField(problem, { id: 'pr-photos', name: 'photoUrls', label: PHOTOS_LABEL, attrs: html` rows="2"` })}
  <button type="submit">Send report</button>
</form>
<form class="card" method="post" action="/log-entries#log-form" id="log-form">
  <h2>Write a log entry</h2>
  ${selectField(log, { id: 'le-machine', name: 'machineId', label: 'Machine', options: machineOptions(machines), attrs: html` required` })}
  ${textareaField(log, { id: 'le-text', name: 'text', label: 'What did you do?', attrs: html` required maxlength="20000"` })}
  ${inputField(log, { id: 'le-names', name: 'maintainerNames', label: 'Maintainers (comma separated)' })}
  ${inputField(log, { id: 'le-report', name: 'problemReportId', label: 'Problem report # (optional)', type: 'number', attrs: html` min="1"` })}
  ${textareaField(log, { id: 'le-photos', name: 'photoUrls', label: PHOTOS_LABEL, attrs: html` rows="2"` })}
  <button type="submit">Save log entry</button>
</form>
<form class="card" method="post" action="/part-requests#part-form" id="part-form">
  <h2>Request a part</h2>
  ${selectField(part, { id: 'pq-machine', name: 'machineId', label: 'Machine (optional)', options: [['', 'No machine'], ...machineOptions(machines)] })}
  ${textareaField(part, { id: 'pq-text', name: 'text', label: 'Which part, and why?', attrs: html` required maxlength="20000"` })}
  ${inputField(part, { id: 'pq-name', name: 'requestedByName', label: 'Your name (optional)', attrs: html` maxlength="200"` })}
  ${textareaField(part, { id: 'pq-photos', name: 'photoUrls', label: PHOTOS_LABEL, attrs: html` rows="2"` })}
  <button type="submit">Request part</button>
</form>
</div>`,
  });
}

function reportRow(r: ProblemReportWithRelations, links: LinkTargets): Html {
  return html`<li><a href="/problem-reports/${r.id}">#${r.id} ${PROBLEM_TYPE_LABELS[r.problemType]} on ${machineName(r.machine)}</a> ${badge(r.status)} ${r.priority === 'untriaged' ? '' : badge(r.priority)}
<div class="muted">${textPreview(r.description, links)} · ${r.reporterName ?? 'Anonymous'} · ${when(r.createdAt)}</div></li>`;
}

function logRow(e: LogEntryWithRelations, links: LinkTargets): Html {
  return html`<li><a href="/log-entries/${e.id}">#${e.id} ${machineName(e.machine)}</a>
<div class="muted">${textPreview(e.text, links)} · ${names(e.maintainerNames)} · ${when(e.createdAt)}</div></li>`;
}

function partRow(p: PartRequestWithRelations, links: LinkTargets): Html {
  return html`<li><a href="/part-requests/${p.id}">#${p.id} ${machineName(p.machine)}</a> ${badge(p.status)}
<div class="muted">${textPreview(p.text, links)} · ${p.requestedByName ?? 'Anonymous'} · ${when(p.createdAt)}</div></li>`;
}

function list(items: Html[], empty: string): HtmlValue {
  return items.length === 0 ? html`<p class="muted">${empty}</p>` : html`<ul class="list card">${items}</ul>`;
}

/** What a list route asks its records for. */
interface ListRequest {
  search: string | undefined;
  status: string | undefined;
  beforeId: number | undefined;
  limit: number;
}

/** One record list page: filters, rows (or why there are none) and the pager. */
function listPage<T extends { id: number }>(o: {
  title: string;
  path: string;
  searchHint: string;
  statuses?: readonly string[];
  query: ListPageQuery;
  found: readonly T[];
  row: (item: T) => Html;
}): Html {
  const { rows, next } = pageOf(o.found);
  const controls = listControls({ ...o, next, shown: rows.length });
  const filtered = (o.query.q ?? '') !== '' || (o.query.status ?? '') !== '';
  const empty = filtered ? 'Nothing matches this search.' : o.query.before === undefined ? `No ${o.title.toLowerCase()} yet.` : 'No older records.';
  return layout({ title: o.title, current: o.path, body: html`<h1>${o.title}</h1>${controls.filters}${list(rows.map(o.row), empty)}${controls.pager}` });
}

/** A note on a record page just after it was created (`?saved=1`) or updated. */
function savedNotice(req: Request, what: string): Notice {
  return req.query.saved === '1' ? { kind: 'ok', text: `${what} saved.` } : null;
}

/** Routes mounted at `/`. */
export function pagesRouter(db: Db): Router {
  const r = Router();

  const renderHome = async (res: Response, notice: Notice, forms: HomeForms = BLANK_HOME, status = 200) => {
    send(res, homePage(await listMachines(db), notice, forms), status);
  };

  r.get('/', async (_req, res) => {
    await renderHome(res, null);
  });

  /**
   * Runs a home-page form: success redirects (303) to the new record with a
   * note that it was saved; refused input re-renders the start page with
   * everything as typed and each reason beside its field.
   */
  const homeFormPost = (form: keyof HomeForms, handler: (req: Request) => Promise<string>) => async (req: Request, res: Response) => {
    try {
      res.redirect(303, await handler(req));
    } catch (err) {
      const errors = fieldErrors(err);
      if (errors === null) throw err;
      await renderHome(res, NOT_SAVED, { ...BLANK_HOME, [form]: { values: typedValues(req.body), errors } }, 400);
    }
  };

  r.post(
    '/problem-reports',
    homeFormPost('problem', async (req) => {
      const body = CreateProblemReportBody.parse(formInput(req.body, { photoUrls: lines }));
      return `/problem-reports/${(await createProblemReport(db, body)).id}?saved=1`;
    }),
  );
  r.post(
    '/log-entries',
    homeFormPost('log', async (req) => {
      const body = CreateLogEntryBody.parse(
        formInput(req.body, {
          photoUrls: lines,
          maintainerNames: (v) =>
            typeof v === 'string'
              ? v
                  .split(',')
                  .map((n) => n.trim())
                  .filter((n) => n !== '')
              : undefined,
        }),
      );
      return `/log-entries/${(await createLogEntry(db, body)).id}?saved=1`;
    }),
  );
  r.post(
    '/part-requests',
    homeFormPost('part', async (req) => {
      const body = CreatePartRequestBody.parse(formInput(req.body, { photoUrls: lines }));
      return `/part-requests/${(await createPartRequest(db, body)).id}?saved=1`;
    }),
  );

  r.get('/machines', async (_req, res) => {
    const machines = await listMachines(db);
    send(
      res,
      layout({
        title: 'Machines',
        current: '/machines',
        body: html`<h1>Machines</h1>${list(
          machines.map(
            (m) => html`<li><a href="${machinePath(m)}">${m.name}</a> ${m.shortName ? html`<span class="muted">(${m.shortName})</span>` : ''} ${badge(m.operationalStatus)}${m.location ? html`<div class="muted">${m.location}</div>` : ''}</li>`,
          ),
          'No machines yet.',
        )}`,
      }),
    );
  });
  /** A machine's page, with a form to change its address (slug). */
  const renderMachine = async (res: Response, machine: Machine, notice: Notice = null, slugForm: FormState = blankForm({ slug: machine.slug }), status = 200) => {
    const [reports, entries, parts] = await Promise.all([
      listProblemReports(db, { machineId: machine.id, limit: 20 }),
      listLogEntries(db, { machineId: machine.id, limit: 20 }),
      listPartRequests(db, { machineId: machine.id, limit: 20 }),
    ]);
    const links = await pageLinks(db, [...reports.map((x) => x.description), ...entries.map((x) => x.text), ...parts.map((x) => x.text)]);
    send(
      res,
      layout({
        title: machine.name,
        notice,
        body: html`<h1>${machine.name}</h1>
<div class="card"><dl class="meta"><dt>Short name</dt><dd>${machine.shortName ?? '—'}</dd><dt>Link</dt><dd><code>[[machine:${machine.slug}]]</code></dd><dt>Location</dt><dd>${machine.location ?? '—'}</dd><dt>Status</dt><dd>${badge(machine.operationalStatus)}</dd></dl></div>
<h2>Problem reports</h2>${list(reports.map((x) => reportRow(x, links)), 'No problem reports.')}
<h2>Log entries</h2>${list(entries.map((x) => logRow(x, links)), 'No log entries.')}
<h2>Part requests</h2>${list(parts.map((x) => partRow(x, links)), 'No part requests.')}
<form class="card" method="post" action="${machinePath(machine)}/slug"><h2>Page address</h2>
<p class="muted small">The slug is the machine's address (<code>/machines/&lt;slug&gt;</code>) and its link in text (<code>[[machine:&lt;slug&gt;]]</code>). Links already written keep working.</p>
${inputField(slugForm, { id: 'm-slug', name: 'slug', label: 'Slug', attrs: html` required maxlength="100"` })}
<button type="submit">Change address</button></form>`,
      }),
      status,
    );
  };

  // A machine's page is /machines/<slug>; /machines/<id> (older links) redirects there.
  r.get('/machines/:ref', async (req, res) => {
    const ref = req.params.ref;
    const machine = await getMachineBySlug(db, ref).catch(async (err: unknown) => {
      if (!/^\d{1,10}$/.test(ref)) throw err;
      const byId = await getMachine(db, parseId(ref, 'Machine'));
      return { redirect: machinePath(byId) };
    });
    if ('redirect' in machine) {
      res.redirect(301, machine.redirect);
      return;
    }
    await renderMachine(res, machine);
  });
  r.post('/machines/:slug/slug', async (req, res) => {
    const machine = await getMachineBySlug(db, req.params.slug);
    try {
      const { slug } = PatchMachineBody.parse({ slug: formInput(req.body).slug ?? '' });
      res.redirect(303, machinePath(await updateMachine(db, machine.id, { slug })));
    } catch (err) {
      const errors = fieldErrors(err);
      if (errors === null) throw err;
      await renderMachine(res, machine, NOT_SAVED, { values: typedValues(req.body), errors }, 400);
    }
  });

  /**
   * A record list: search, status filter (for records that have one) and cursor; one row more tells
   * whether an older page exists. The record links in the rows' texts are resolved in one lookup.
   */
  const listRoute = <T extends { id: number }>(
    o: Omit<Parameters<typeof listPage<T>>[0], 'query' | 'found' | 'row'> & {
      list: (q: ListRequest) => Promise<T[]>;
      text: (item: T) => string;
      row: (item: T, links: LinkTargets) => Html;
    },
  ) =>
    r.get(o.path, async (req, res) => {
      const query = ListPageQuery.parse(req.query);
      const found = await o.list({ search: query.q, status: query.status, beforeId: query.before, limit: PAGE_SIZE + 1 });
      const links = await pageLinks(db, found.map(o.text));
      send(res, listPage({ ...o, query, found, row: (item) => o.row(item, links) }));
    });

  listRoute({
    title: 'Problem reports',
    path: '/problem-reports',
    searchHint: 'words, a name, a machine or #id',
    statuses: PROBLEM_REPORT_STATUSES,
    row: reportRow,
    text: (x) => x.description,
    list: (q) => listProblemReports(db, { ...q, status: PROBLEM_REPORT_STATUSES.find((s) => s === q.status) }),
  });
  const renderReport = async (res: Response, id: number, notice: Notice, statusForm: FormState = blankForm(), status = 200) => {
    const report = await getProblemReport(db, id);
    const entries = await listLogEntries(db, { problemReportId: report.id, limit: 50 });
    const links = await pageLinks(db, [report.description, ...entries.map((x) => x.text)]);
    const next = report.status === 'open' ? 'closed' : 'open';
    send(
      res,
      layout({
        title: `Problem report #${report.id}`,
        notice,
        body: html`<h1>⚠️ ${PROBLEM_TYPE_LABELS[report.problemType]} on ${machineName(report.machine)} ${badge(report.status)}</h1>
<div class="card"><p class="text">${linkedText(report.description, links)}</p>
<dl class="meta"><dt>Machine</dt><dd>${machineLink(report.machine)}</dd><dt>Priority</dt><dd>${badge(report.priority)}</dd><dt>Reported by</dt><dd>${report.reporterName ?? 'Anonymous'}</dd>
${report.claimedByName ? html`<dt>Claimed by</dt><dd>${report.claimedByName}</dd>` : ''}<dt>Filed</dt><dd>${when(report.createdAt)}</dd></dl></div>
${photos(report.photos)}
<form class="card" method="post" action="/problem-reports/${report.id}/status"><input type="hidden" name="status" value="${next}">
${inputField(statusForm, { id: 'actor', name: 'actorName', label: 'Your name (optional)', attrs: html` maxlength="200"` })}
<button type="submit">${next === 'closed' ? 'Close this report' : 'Re-open this report'}</button></form>
<h2>Log entries</h2>${list(entries.map((x) => logRow(x, links)), 'No log entries on this report yet.')}`,
      }),
      status,
    );
  };
  r.get('/problem-reports/:id', async (req, res) => {
    const changed = req.query.changed;
    const notice = changed === 'closed' || changed === 'open' ? { kind: 'ok' as const, text: changed === 'closed' ? 'Report closed.' : 'Report re-opened.' } : savedNotice(req, 'Problem report');
    await renderReport(res, parseId(req.params.id, 'Problem report'), notice);
  });
  r.post('/problem-reports/:id/status', async (req, res) => {
    const id = parseId(req.params.id, 'Problem report');
    try {
      const body = PatchProblemReportBody.parse(formInput(req.body));
      await setProblemReportStatus(db, id, body.status, body.actorName ?? null);
      res.redirect(303, `/problem-reports/${id}?changed=${body.status}`);
    } catch (err) {
      const errors = fieldErrors(err);
      if (errors === null) throw err;
      await renderReport(res, id, NOT_SAVED, { values: typedValues(req.body), errors }, 400);
    }
  });

  listRoute({
    title: 'Log entries',
    path: '/log-entries',
    searchHint: 'words, a maintainer, a machine or #id',
    row: logRow,
    text: (x) => x.text,
    list: ({ status: _none, ...q }) => listLogEntries(db, q),
  });
  r.get('/log-entries/:id', async (req, res) => {
    const entry = await getLogEntry(db, parseId(req.params.id, 'Log entry'));
    const links = await pageLinks(db, [entry.text]);
    send(
      res,
      layout({
        title: `Log entry #${entry.id}`,
        notice: savedNotice(req, 'Log entry'),
        body: html`<h1>🗒️ ${machineName(entry.machine)}</h1>
<div class="card"><p class="text">${linkedText(entry.text, links)}</p>
<dl class="meta"><dt>Machine</dt><dd>${machineLink(entry.machine)}</dd><dt>Maintainers</dt><dd>${names(entry.maintainerNames)}</dd>
${entry.problemReport ? html`<dt>Problem report</dt><dd><a href="/problem-reports/${entry.problemReport.id}">#${entry.problemReport.id}</a> ${badge(entry.problemReport.status)}</dd>` : ''}
<dt>Written</dt><dd>${when(entry.createdAt)}</dd></dl></div>${photos(entry.photos)}`,
      }),
    );
  });

  listRoute({
    title: 'Part requests',
    path: '/part-requests',
    searchHint: 'words, a name, a machine or #id',
    statuses: PART_REQUEST_STATUSES,
    row: partRow,
    text: (x) => x.text,
    list: (q) => listPartRequests(db, { ...q, status: PART_REQUEST_STATUSES.find((s) => s === q.status) }),
  });
  const renderPartRequest = async (res: Response, id: number, notice: Notice, updateForm: FormState = blankForm(), status = 200) => {
    const part = await getPartRequest(db, id);
    const updates = await listPartRequestUpdates(db, { partRequestId: part.id, limit: 100 });
    const links = await pageLinks(db, [part.text, ...updates.map((x) => x.text)]);
    send(
      res,
      layout({
        title: `Part request #${part.id}`,
        notice,
        body: html`<h1>📦 ${machineName(part.machine)} ${badge(part.status)}</h1>
<div class="card"><p class="text">${linkedText(part.text, links)}</p>
<dl class="meta"><dt>Machine</dt><dd>${machineLink(part.machine)}</dd><dt>Requested by</dt><dd>${part.requestedByName ?? 'Anonymous'}</dd><dt>Requested</dt><dd>${when(part.createdAt)}</dd></dl></div>
${photos(part.photos)}
<h2>Updates</h2>${list(
          updates.map(
            (u) => html`<li id="update-${u.id}"><a href="/part-request-updates/${u.id}">💬 ${u.postedByName ?? 'Anonymous'}</a> ${u.newStatus ? badge(u.newStatus) : ''} · ${when(u.createdAt)}<div class="text">${linkedText(u.text, links)}</div></li>`,
          ),
          'No updates yet.',
        )}
<form class="card" method="post" action="/part-requests/${part.id}/updates#update-form" id="update-form"><h2>Post an update</h2>
${textareaField(updateForm, { id: 'u-text', name: 'text', label: 'Update', attrs: html` required maxlength="20000"` })}
${selectField(updateForm, { id: 'u-status', name: 'newStatus', label: 'New status (optional)', options: [['', '(unchanged)'], ...PART_REQUEST_STATUSES.map((s) => [s, s] as const)] })}
${inputField(updateForm, { id: 'u-name', name: 'postedByName', label: 'Your name (optional)', attrs: html` maxlength="200"` })}
<button type="submit">Post update</button></form>`,
      }),
      status,
    );
  };
  r.get('/part-requests/:id', async (req, res) => {
    const notice = typeof req.query.update === 'string' ? { kind: 'ok' as const, text: 'Update posted.' } : savedNotice(req, 'Part request');
    await renderPartRequest(res, parseId(req.params.id, 'Part request'), notice);
  });
  /** Posting an update returns to the request, where the update now shows in the list. */
  r.post('/part-requests/:id/updates', async (req, res) => {
    const id = parseId(req.params.id, 'Part request');
    try {
      const body = CreatePartRequestUpdateBody.parse(formInput(req.body, { photoUrls: lines }));
      const update = await createPartRequestUpdate(db, id, body);
      res.redirect(303, `/part-requests/${id}?update=${update.id}#update-${update.id}`);
    } catch (err) {
      const errors = fieldErrors(err);
      if (errors === null) throw err;
      await renderPartRequest(res, id, NOT_SAVED, { values: typedValues(req.body), errors }, 400);
    }
  });
  r.get('/part-request-updates/:id', async (req, res) => {
    const u = await getPartRequestUpdate(db, parseId(req.params.id, 'Part request update'));
    const links = await pageLinks(db, [u.text]);
    send(
      res,
      layout({
        title: `Part request update #${u.id}`,
        body: html`<h1>💬 Update on part request <a href="/part-requests/${u.partRequestId}">#${u.partRequestId}</a></h1>
<div class="card"><p class="text">${linkedText(u.text, links)}</p>
<dl class="meta"><dt>Machine</dt><dd>${machineLink(u.partRequest.machine)}</dd><dt>Posted by</dt><dd>${u.postedByName ?? 'Anonymous'}</dd>
${u.newStatus ? html`<dt>New status</dt><dd>${badge(u.newStatus)}</dd>` : ''}<dt>Request status</dt><dd>${badge(u.partRequest.status)}</dd><dt>Posted</dt><dd>${when(u.createdAt)}</dd></dl></div>${photos(u.photos)}`,
      }),
    );
  });

  return r;
}


