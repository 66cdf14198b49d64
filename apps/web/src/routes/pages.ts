/**
 * Human pages: the link targets of the Discord posts, simple indexes and a
 * start page whose forms work without JavaScript. Everything is rendered with
 * the auto-escaping `html` tag.
 */
import { type Request, type Response, Router } from 'express';
import { z, fieldsOf } from '@flipfix/config';
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
  isAppError,
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
import { PART_REQUEST_STATUSES, PROBLEM_TYPE_LABELS, PROBLEM_TYPES } from '@flipfix/events';
import {
  CreateLogEntryBody,
  CreatePartRequestBody,
  CreatePartRequestUpdateBody,
  CreateProblemReportBody,
  PatchMachineBody,
  PatchProblemReportBody,
} from '../http/schemas';
import { ListQuery, parseId } from '../http/validate';
import { type Html, html, type HtmlValue, safeUrl } from '../views/html';
import { layout, when } from '../views/pages-common';
import { linkedText, pageLinks, textPreview } from '../views/record-text';
import type { LinkTargets } from '@flipfix/events';

type Notice = { kind: 'ok' | 'error'; text: string } | null;

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

/** A form error as a one-line notice naming the fields. */
function formError(err: unknown): Notice {
  if (err instanceof z.ZodError) {
    const text = Object.entries(fieldsOf(err))
      .map(([f, m]) => `${f}: ${m}`)
      .join('; ');
    return { kind: 'error', text: `Please check the form. ${text}` };
  }
  if (isAppError(err) && err.code !== 'not_found') return { kind: 'error', text: err.message };
  if (isAppError(err) && err.field !== undefined) return { kind: 'error', text: err.message };
  throw err;
}

function machineOptions(machines: readonly Machine[], selected?: unknown): Html[] {
  return machines.map(
    (m) => html`<option value="${m.id}"${String(selected) === String(m.id) ? html` selected` : ''}>${m.name}</option>`,
  );
}

function options(values: readonly string[], labels: Record<string, string> = {}): Html[] {
  return values.map((v) => html`<option value="${v}">${labels[v] ?? v.replaceAll('_', ' ')}</option>`);
}

function homePage(machines: readonly Machine[], notice: Notice, values: Record<string, unknown> = {}): Html {
  const v = (k: string) => (typeof values[k] === 'string' ? (values[k] as string) : '');
  const noMachines = machines.length === 0 ? html`<p class="notice error">No machines yet. Add one through <code>POST /api/machines</code>.</p>` : '';
  return layout({
    title: 'Start',
    current: '/',
    notice,
    body: html`<h1>Pinball maintenance</h1>${noMachines}
<div class="grid">
<form class="card" method="post" action="/problem-reports">
  <h2>Report a problem</h2>
  <label for="pr-machine">Machine</label><select id="pr-machine" name="machineId" required>${machineOptions(machines, values.machineId)}</select>
  <label for="pr-type">Problem</label><select id="pr-type" name="problemType">${options(PROBLEM_TYPES, PROBLEM_TYPE_LABELS)}</select>
  <label for="pr-desc">What is wrong?</label><textarea id="pr-desc" name="description" required maxlength="20000">${v('description')}</textarea>
  <label for="pr-name">Your name (optional)</label><input id="pr-name" type="text" name="reporterName" maxlength="200">
  <label for="pr-contact">Contact (optional, only maintainers see it)</label><input id="pr-contact" type="text" name="reporterContact" maxlength="200">
  <label for="pr-photos">Photo URLs (one per line, optional)</label><textarea id="pr-photos" name="photoUrls" rows="2"></textarea>
  <button type="submit">Send report</button>
</form>
<form class="card" method="post" action="/log-entries">
  <h2>Write a log entry</h2>
  <label for="le-machine">Machine</label><select id="le-machine" name="machineId" required>${machineOptions(machines)}</select>
  <label for="le-text">What did you do?</label><textarea id="le-text" name="text" required maxlength="20000"></textarea>
  <label for="le-names">Maintainers (comma separated)</label><input id="le-names" type="text" name="maintainerNames">
  <label for="le-report">Problem report # (optional)</label><input id="le-report" type="number" name="problemReportId" min="1">
  <label for="le-photos">Photo URLs (one per line, optional)</label><textarea id="le-photos" name="photoUrls" rows="2"></textarea>
  <button type="submit">Save log entry</button>
</form>
<form class="card" method="post" action="/part-requests">
  <h2>Request a part</h2>
  <label for="pq-machine">Machine (optional)</label><select id="pq-machine" name="machineId"><option value="">No machine</option>${machineOptions(machines)}</select>
  <label for="pq-text">Which part, and why?</label><textarea id="pq-text" name="text" required maxlength="20000"></textarea>
  <label for="pq-name">Your name (optional)</label><input id="pq-name" type="text" name="requestedByName" maxlength="200">
  <label for="pq-photos">Photo URLs (one per line, optional)</label><textarea id="pq-photos" name="photoUrls" rows="2"></textarea>
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

/** Routes mounted at `/`. */
export function pagesRouter(db: Db): Router {
  const r = Router();

  const renderHome = async (res: Response, notice: Notice, values: Record<string, unknown> = {}, status = 200) => {
    send(res, homePage(await listMachines(db), notice, values), status);
  };

  r.get('/', async (_req, res) => {
    await renderHome(res, null);
  });

  /** Runs a form handler: success redirects (303), bad input re-renders the start page with the reason. */
  const formPost = (handler: (req: Request) => Promise<string>) => async (req: Request, res: Response) => {
    try {
      res.redirect(303, await handler(req));
    } catch (err) {
      await renderHome(res, formError(err), formInput(req.body), 400);
    }
  };

  r.post(
    '/problem-reports',
    formPost(async (req) => {
      const body = CreateProblemReportBody.parse(formInput(req.body, { photoUrls: lines }));
      return `/problem-reports/${(await createProblemReport(db, body)).id}`;
    }),
  );
  r.post(
    '/log-entries',
    formPost(async (req) => {
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
      return `/log-entries/${(await createLogEntry(db, body)).id}`;
    }),
  );
  r.post(
    '/part-requests',
    formPost(async (req) => {
      const body = CreatePartRequestBody.parse(formInput(req.body, { photoUrls: lines }));
      return `/part-requests/${(await createPartRequest(db, body)).id}`;
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
  // A machine's page is /machines/<slug>; /machines/<id> (older links) redirects there.
  /** A machine's page, with a form to change its address (slug); `slug` is the value to show in that form. */
  const renderMachine = async (res: Response, machine: Machine, notice: Notice = null, slug = machine.slug, status = 200) => {
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
<label for="m-slug">Slug (in <code>/machines/&lt;slug&gt;</code> and <code>[[machine:&lt;slug&gt;]]</code>; links already written keep working)</label>
<input id="m-slug" type="text" name="slug" value="${slug}" required maxlength="100">
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
    const input = formInput(req.body);
    try {
      const { slug } = PatchMachineBody.parse({ slug: input.slug ?? '' });
      res.redirect(303, machinePath(await updateMachine(db, machine.id, { slug })));
    } catch (err) {
      await renderMachine(res, machine, formError(err), typeof input.slug === 'string' ? input.slug : '', 400);
    }
  });

  r.get('/problem-reports', async (req, res) => {
    const q = ListQuery.parse(req.query);
    const reports = await listProblemReports(db, q);
    const links = await pageLinks(db, reports.map((x) => x.description));
    send(res, layout({ title: 'Problem reports', current: '/problem-reports', body: html`<h1>Problem reports</h1>${list(reports.map((x) => reportRow(x, links)), 'No problem reports yet.')}` }));
  });
  r.get('/problem-reports/:id', async (req, res) => {
    const report = await getProblemReport(db, parseId(req.params.id, 'Problem report'));
    const entries = await listLogEntries(db, { problemReportId: report.id, limit: 50 });
    const links = await pageLinks(db, [report.description, ...entries.map((x) => x.text)]);
    const next = report.status === 'open' ? 'closed' : 'open';
    send(
      res,
      layout({
        title: `Problem report #${report.id}`,
        body: html`<h1>⚠️ ${PROBLEM_TYPE_LABELS[report.problemType]} on ${machineName(report.machine)} ${badge(report.status)}</h1>
<div class="card"><p class="text">${linkedText(report.description, links)}</p>
<dl class="meta"><dt>Machine</dt><dd>${machineLink(report.machine)}</dd><dt>Priority</dt><dd>${badge(report.priority)}</dd><dt>Reported by</dt><dd>${report.reporterName ?? 'Anonymous'}</dd>
${report.claimedByName ? html`<dt>Claimed by</dt><dd>${report.claimedByName}</dd>` : ''}<dt>Filed</dt><dd>${when(report.createdAt)}</dd></dl></div>
${photos(report.photos)}
<form class="card" method="post" action="/problem-reports/${report.id}/status"><input type="hidden" name="status" value="${next}">
<label for="actor">Your name (optional)</label><input id="actor" type="text" name="actorName" maxlength="200">
<button type="submit">${next === 'closed' ? 'Close this report' : 'Re-open this report'}</button></form>
<h2>Log entries</h2>${list(entries.map((x) => logRow(x, links)), 'No log entries on this report yet.')}`,
      }),
    );
  });
  r.post('/problem-reports/:id/status', async (req, res) => {
    const id = parseId(req.params.id, 'Problem report');
    const body = PatchProblemReportBody.parse(formInput(req.body));
    await setProblemReportStatus(db, id, body.status, body.actorName ?? null);
    res.redirect(303, `/problem-reports/${id}`);
  });

  r.get('/log-entries', async (req, res) => {
    const entries = await listLogEntries(db, ListQuery.parse(req.query));
    const links = await pageLinks(db, entries.map((x) => x.text));
    send(res, layout({ title: 'Log entries', current: '/log-entries', body: html`<h1>Log entries</h1>${list(entries.map((x) => logRow(x, links)), 'No log entries yet.')}` }));
  });
  r.get('/log-entries/:id', async (req, res) => {
    const entry = await getLogEntry(db, parseId(req.params.id, 'Log entry'));
    const links = await pageLinks(db, [entry.text]);
    send(
      res,
      layout({
        title: `Log entry #${entry.id}`,
        body: html`<h1>🗒️ ${machineName(entry.machine)}</h1>
<div class="card"><p class="text">${linkedText(entry.text, links)}</p>
<dl class="meta"><dt>Machine</dt><dd>${machineLink(entry.machine)}</dd><dt>Maintainers</dt><dd>${names(entry.maintainerNames)}</dd>
${entry.problemReport ? html`<dt>Problem report</dt><dd><a href="/problem-reports/${entry.problemReport.id}">#${entry.problemReport.id}</a> ${badge(entry.problemReport.status)}</dd>` : ''}
<dt>Written</dt><dd>${when(entry.createdAt)}</dd></dl></div>${photos(entry.photos)}`,
      }),
    );
  });

  r.get('/part-requests', async (req, res) => {
    const parts = await listPartRequests(db, ListQuery.parse(req.query));
    const links = await pageLinks(db, parts.map((x) => x.text));
    send(res, layout({ title: 'Part requests', current: '/part-requests', body: html`<h1>Part requests</h1>${list(parts.map((x) => partRow(x, links)), 'No part requests yet.')}` }));
  });
  r.get('/part-requests/:id', async (req, res) => {
    const part = await getPartRequest(db, parseId(req.params.id, 'Part request'));
    const updates = await listPartRequestUpdates(db, { partRequestId: part.id, limit: 100 });
    const links = await pageLinks(db, [part.text, ...updates.map((x) => x.text)]);
    send(
      res,
      layout({
        title: `Part request #${part.id}`,
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
<form class="card" method="post" action="/part-requests/${part.id}/updates"><h2>Post an update</h2>
<label for="u-text">Update</label><textarea id="u-text" name="text" required maxlength="20000"></textarea>
<label for="u-status">New status (optional)</label><select id="u-status" name="newStatus"><option value="">(unchanged)</option>${options(PART_REQUEST_STATUSES)}</select>
<label for="u-name">Your name (optional)</label><input id="u-name" type="text" name="postedByName" maxlength="200">
<button type="submit">Post update</button></form>`,
      }),
    );
  });
  r.post('/part-requests/:id/updates', async (req, res) => {
    const id = parseId(req.params.id, 'Part request');
    const body = CreatePartRequestUpdateBody.parse(formInput(req.body, { photoUrls: lines }));
    const update = await createPartRequestUpdate(db, id, body);
    res.redirect(303, `/part-request-updates/${update.id}`);
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


