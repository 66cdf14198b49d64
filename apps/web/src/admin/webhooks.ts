/**
 * The console's webhook endpoints page (`/admin/webhooks`), over the legacy
 * path's service functions, which only ever return masked URLs. A submitted
 * URL is never written back into a page, not even after a validation error:
 * it holds the webhook's token. Deleting takes a second, confirming form, so
 * it needs no JavaScript.
 */
import { fieldsOf } from '@flipfix/config';
import type { REST } from '@discordjs/rest';
import type { Response, Router } from 'express';
import { type Db, getSettings, isAppError } from '@flipfix/db';
import { maskWebhookUrl, parseWebhookUrl } from '@flipfix/discord';
import { EVENT_LABELS, EVENT_TYPES, type EventType } from '@flipfix/events';
import {
  createEndpointSchema,
  createWebhookEndpoint,
  DISABLED_BY_ADMIN,
  deleteWebhookEndpoint,
  getWebhookEndpoint,
  listWebhookEndpoints,
  sendWebhookTestMessage,
  updateEndpointSchema,
  updateWebhookEndpoint,
  type WebhookEndpointView,
} from '@flipfix/legacy-webhooks';
import type { Logger } from '@flipfix/logger';
import { plainMessage } from '../views/forms';
import { type Html, html } from '../views/html';
import { when } from '../views/pages-common';
import type { AdminSession } from './auth';
import { badge, csrfField, type FlashRedirect, type RenderPage } from './kit';

/**
 * Event types a webhook can receive. Status changes edit the bot's earlier
 * post in place; webhooks never received them, so they are not offered.
 */
export const WEBHOOK_EVENT_TYPES = EVENT_TYPES.filter((t) => t !== 'problem_report_status_changed');

/** What the webhook pages need from the console. */
export interface WebhookPagesDeps {
  db: Db;
  log: Logger;
  /** Base for links in test posts (APP_BASE_URL). */
  baseUrl: string;
  /** Accept non-discord.com webhook URLs (the simulator's). */
  allowDevelopmentUrls: boolean;
  /** Sends test messages (with `auth: false`, so the bot's client is fine). */
  discordRest?: REST | undefined;
  page: RenderPage;
  flash: FlashRedirect;
  session: (res: Response) => AdminSession;
}

/** The values a form shows: never a URL, only a masked hint of one. */
interface FormValues {
  name: string;
  events: readonly string[];
  enabled: boolean;
  /** The masked form of the URL the admin typed or the endpoint has, as a placeholder. */
  urlHint: string | null;
}

type FieldErrors = Record<string, string>;

/** Zod issues by form field (`events.2` is the `events` checkboxes), first message each, in plain words. */
function fieldErrors(error: Parameters<typeof fieldsOf>[0]): FieldErrors {
  const out: FieldErrors = {};
  for (const [path, message] of Object.entries(fieldsOf(error))) out[path.split('.')[0] ?? path] ??= plainMessage(message);
  return out;
}

function list(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return typeof value === 'string' ? [value] : [];
}

function text(value: unknown): string {
  return typeof value === 'string' ? value.trim() : '';
}

/** A masked echo of a typed URL, when it is a webhook URL; nothing otherwise. */
function hintOf(url: string): string | null {
  return url !== '' && parseWebhookUrl(url) !== null ? maskWebhookUrl(url) : null;
}

/** "Discord disabled this endpoint: …" or "Disabled by an admin", with when. */
function disabledNote(e: WebhookEndpointView): Html | string {
  if (e.enabled) return '';
  const at = e.disabledAt ? html` · ${when(e.disabledAt)}` : '';
  if (e.disabledReason === null || e.disabledReason === DISABLED_BY_ADMIN) {
    return html`<p class="muted">Disabled by an admin${at}.</p>`;
  }
  return html`<p class="notice error">Discord disabled this endpoint: ${e.disabledReason}${at}. Fix the webhook in Discord (or paste a new URL), send a test, then enable it.</p>`;
}

function eventsLine(e: WebhookEndpointView): Html {
  if (e.events.length === 0) return html`<span class="muted">none: this endpoint receives nothing</span>`;
  return html`${e.events.map((t, i) => html`${i > 0 ? ', ' : ''}${EVENT_LABELS[t]}`)}`;
}

function fieldError(errors: FieldErrors, field: string): Html | string {
  const message = errors[field];
  return message === undefined ? '' : html`<p class="field-error" id="${field}-error">${message}</p>`;
}

function invalid(errors: FieldErrors, field: string): Html | string {
  return errors[field] === undefined ? '' : html` aria-invalid="true" aria-describedby="${field}-error"`;
}

/**
 * The add/edit form. `endpoint` set means editing: an empty URL keeps the
 * stored one.
 */
function endpointForm(session: AdminSession, values: FormValues, errors: FieldErrors, endpoint?: WebhookEndpointView): Html {
  const editing = endpoint !== undefined;
  const action = editing ? `/admin/webhooks/${endpoint.id}` : '/admin/webhooks';
  const urlHelp = editing
    ? html`Leave empty to keep <code>${endpoint.url}</code>. The token part is never shown again.`
    : html`From Discord: channel settings → Integrations → Webhooks → Copy Webhook URL. It looks like <code>https://discord.com/api/webhooks/&lt;id&gt;/&lt;token&gt;</code>, the id 17 to 20 digits. Stored as a secret; shown masked.`;
  const retype = values.urlHint !== null && errors.url === undefined && Object.keys(errors).length > 0;
  return html`<form class="card endpoint-form" method="post" action="${action}" novalidate>${csrfField(session)}
${errors.body === undefined ? '' : html`<p class="notice error">${errors.body}</p>`}
<label for="wh-name">Name</label>
<input id="wh-name" type="text" name="name" value="${values.name}" maxlength="80" required${invalid(errors, 'name')}>
${fieldError(errors, 'name')}
<label for="wh-url">Webhook URL</label>
<input id="wh-url" type="url" name="url" value="" autocomplete="off" spellcheck="false" placeholder="${values.urlHint ?? 'https://discord.com/api/webhooks/…/…'}"${editing ? '' : html` required`}${invalid(errors, 'url')}>
${fieldError(errors, 'url')}
<p class="muted small">${urlHelp}${retype ? html` <strong>Paste the URL again:</strong> it is not kept in the form.` : ''}</p>
<fieldset${invalid(errors, 'events')}><legend>Events it receives</legend>
${WEBHOOK_EVENT_TYPES.map(
  (t) => html`<label class="check"><input type="checkbox" name="events" value="${t}"${values.events.includes(t) ? html` checked` : ''}> ${EVENT_LABELS[t]}</label>`,
)}
<p class="muted small">Status changes edit the bot's post in place; webhooks never receive them.</p>
</fieldset>
${fieldError(errors, 'events')}
<label class="check"><input type="checkbox" name="enabled" value="on"${values.enabled ? html` checked` : ''}> <span>Enabled: receives events in the <code>webhooks</code> and <code>both</code> modes</span></label>
${fieldError(errors, 'enabled')}
<button type="submit">${editing ? 'Save endpoint' : 'Add endpoint'}</button>${editing ? html` <a class="button secondary" href="/admin/webhooks">Cancel</a>` : ''}
</form>`;
}

function endpointCard(session: AdminSession, e: WebhookEndpointView): Html {
  const csrf = csrfField(session);
  const testTypes = e.events.length > 0 ? e.events : WEBHOOK_EVENT_TYPES;
  return html`<article class="card endpoint" data-endpoint="${e.id}">
<div class="endpoint-head"><h2>${e.name}</h2>${e.enabled ? badge('enabled') : badge('disabled')}</div>
<p class="url"><code>${e.url}</code></p>
<p><span class="muted">Events:</span> ${eventsLine(e)}</p>
${disabledNote(e)}
<div class="actions">
<a class="button small secondary" href="/admin/webhooks/${e.id}/edit">Edit</a>
<form method="post" action="/admin/webhooks/${e.id}/${e.enabled ? 'disable' : 'enable'}">${csrf}<button type="submit" class="small secondary">${e.enabled ? 'Disable' : 'Enable'}</button></form>
<form method="post" action="/admin/webhooks/${e.id}/test" class="test">${csrf}<label class="visually-hidden" for="test-${e.id}">Test event type</label><select id="test-${e.id}" name="eventType">${testTypes.map(
    (t) => html`<option value="${t}">${EVENT_LABELS[t]}</option>`,
  )}</select><button type="submit" class="small">Send test</button></form>
<a class="button small danger" href="/admin/webhooks/${e.id}/delete">Delete…</a>
</div>
</article>`;
}

/** Registers the `/webhooks` pages on the console router (behind its session and CSRF guard). */
export function registerWebhookPages(r: Router, deps: WebhookPagesDeps): void {
  const { db } = deps;
  const rules = { allowDevelopmentUrls: deps.allowDevelopmentUrls };
  const log = deps.log.child({ module: 'console-webhooks' });
  const newForm: FormValues = { name: '', events: [...WEBHOOK_EVENT_TYPES], enabled: true, urlHint: null };

  const listPage = async (res: Response, form: FormValues = newForm, errors: FieldErrors = {}, status = 200) => {
    const [endpoints, settings] = await Promise.all([listWebhookEndpoints(db.prisma), getSettings(db.prisma)]);
    const session = deps.session(res);
    const enabledCount = endpoints.filter((e) => e.enabled).length;
    const modeNote =
      settings.deliveryMode === 'bot'
        ? html`Delivery mode is ${badge('bot')}: endpoints receive nothing until it is <code>webhooks</code> or <code>both</code>.`
        : html`Delivery mode is ${badge(settings.deliveryMode)}: each enabled endpoint receives the enabled event types it subscribes to.${
            enabledCount === 0 ? html` <strong>No endpoint is enabled, so webhooks post nothing.</strong>` : ''
          }`;
    await deps.page(
      res,
      'Webhooks',
      '/admin/webhooks',
      html`<h1>Webhook endpoints</h1>
<p class="muted">The legacy path, run beside the bot during the rollout. ${modeNote} <a href="/admin/settings">Settings</a> · <a href="/admin/deliveries">Rollout parity</a></p>
${endpoints.length === 0 ? html`<p class="card muted">No endpoints yet. Add one below.</p>` : html`<div class="endpoints">${endpoints.map((e) => endpointCard(session, e))}</div>`}
<h2 id="add">Add an endpoint</h2>
${endpointForm(session, form, errors)}`,
      status,
      Object.keys(errors).length > 0 ? { kind: 'error', text: 'Not saved: see the fields marked below.' } : null,
    );
  };

  const editPage = async (res: Response, endpoint: WebhookEndpointView, form: FormValues, errors: FieldErrors = {}, status = 200) => {
    await deps.page(
      res,
      `Edit ${endpoint.name}`,
      '/admin/webhooks',
      html`<h1>Edit webhook endpoint</h1>${disabledNote(endpoint)}${endpointForm(deps.session(res), form, errors, endpoint)}`,
      status,
      Object.keys(errors).length > 0 ? { kind: 'error', text: 'Not saved: see the fields marked below.' } : null,
    );
  };

  /** Loads an endpoint for a page, or answers with the list and a notice. */
  const load = async (res: Response, id: string): Promise<WebhookEndpointView | null> => {
    try {
      return await getWebhookEndpoint(db.prisma, id);
    } catch (err) {
      if (!isAppError(err) || err.code !== 'not_found') throw err;
      await deps.flash(res, '/admin/webhooks', { kind: 'error', text: 'That webhook endpoint does not exist (any more).' });
      return null;
    }
  };

  const readForm = (body: Record<string, unknown>) => ({
    name: text(body.name),
    url: text(body.url),
    events: list(body.events),
    enabled: body.enabled === 'on',
  });

  r.get('/webhooks', async (_req, res) => {
    await listPage(res);
  });

  r.post('/webhooks', async (req, res) => {
    const input = readForm((req.body ?? {}) as Record<string, unknown>);
    const values: FormValues = { name: input.name, events: input.events, enabled: input.enabled, urlHint: hintOf(input.url) };
    const parsed = createEndpointSchema(rules).safeParse(input);
    if (!parsed.success) {
      await listPage(res, values, fieldErrors(parsed.error), 400);
      return;
    }
    try {
      const created = await createWebhookEndpoint(db.prisma, parsed.data, rules);
      log.info({ endpointId: created.id, webhookId: created.webhookId, events: created.events }, 'webhook endpoint created');
      await deps.flash(res, '/admin/webhooks', { kind: 'ok', text: `Endpoint “${created.name}” added (${created.url}).` });
    } catch (err) {
      if (!isAppError(err)) throw err;
      await listPage(res, values, { [err.field ?? 'body']: plainMessage(err.message) }, err.code === 'conflict' ? 409 : 400);
    }
  });

  r.get('/webhooks/:id/edit', async (req, res) => {
    const endpoint = await load(res, req.params.id);
    if (!endpoint) return;
    await editPage(res, endpoint, { name: endpoint.name, events: endpoint.events, enabled: endpoint.enabled, urlHint: endpoint.url });
  });

  r.post('/webhooks/:id', async (req, res) => {
    const endpoint = await load(res, req.params.id);
    if (!endpoint) return;
    const input = readForm((req.body ?? {}) as Record<string, unknown>);
    // An empty URL keeps the stored one; `enabled` only changes when the box changed.
    const patch = {
      name: input.name,
      events: input.events,
      ...(input.url === '' ? {} : { url: input.url }),
      ...(input.enabled === endpoint.enabled ? {} : { enabled: input.enabled }),
    };
    const values: FormValues = { name: input.name, events: input.events, enabled: input.enabled, urlHint: hintOf(input.url) ?? endpoint.url };
    const parsed = updateEndpointSchema(rules).safeParse(patch);
    if (!parsed.success) {
      await editPage(res, endpoint, values, fieldErrors(parsed.error), 400);
      return;
    }
    try {
      const updated = await updateWebhookEndpoint(db.prisma, endpoint.id, parsed.data, rules);
      log.info({ endpointId: updated.id, enabled: updated.enabled, events: updated.events }, 'webhook endpoint updated');
      await deps.flash(res, '/admin/webhooks', { kind: 'ok', text: `Endpoint “${updated.name}” saved.` });
    } catch (err) {
      if (!isAppError(err)) throw err;
      if (err.code === 'not_found') {
        await deps.flash(res, '/admin/webhooks', { kind: 'error', text: 'That webhook endpoint does not exist (any more).' });
        return;
      }
      await editPage(res, endpoint, values, { [err.field ?? 'body']: plainMessage(err.message) }, err.code === 'conflict' ? 409 : 400);
    }
  });

  for (const [action, enabled] of [
    ['enable', true],
    ['disable', false],
  ] as const) {
    r.post(`/webhooks/:id/${action}`, async (req, res) => {
      const endpoint = await load(res, req.params.id);
      if (!endpoint) return;
      const updated = await updateWebhookEndpoint(db.prisma, endpoint.id, { enabled }, rules);
      log.info({ endpointId: updated.id, enabled }, 'webhook endpoint updated');
      await deps.flash(res, '/admin/webhooks', { kind: 'ok', text: `Endpoint “${updated.name}” ${enabled ? 'enabled' : 'disabled'}.` });
    });
  }

  const confirmDelete = async (res: Response, endpoint: WebhookEndpointView) => {
    await deps.page(
      res,
      `Delete ${endpoint.name}`,
      '/admin/webhooks',
      html`<h1>Delete webhook endpoint?</h1>
<div class="card"><p><strong>${endpoint.name}</strong> <code>${endpoint.url}</code></p>
<p>It stops receiving events now; deliveries already planned for it are skipped. Its delivery history stays. The webhook itself stays in Discord: delete it there too if nobody uses it.</p>
<form method="post" action="/admin/webhooks/${endpoint.id}/delete" class="actions">${csrfField(deps.session(res))}<input type="hidden" name="confirm" value="yes">
<button type="submit" class="danger">Delete “${endpoint.name}”</button> <a class="button secondary" href="/admin/webhooks">Keep it</a></form></div>`,
    );
  };

  r.get('/webhooks/:id/delete', async (req, res) => {
    const endpoint = await load(res, req.params.id);
    if (endpoint) await confirmDelete(res, endpoint);
  });

  r.post('/webhooks/:id/delete', async (req, res) => {
    const endpoint = await load(res, req.params.id);
    if (!endpoint) return;
    if ((req.body as Record<string, unknown>).confirm !== 'yes') {
      await confirmDelete(res, endpoint);
      return;
    }
    await deleteWebhookEndpoint(db.prisma, endpoint.id);
    log.info({ endpointId: endpoint.id }, 'webhook endpoint deleted');
    await deps.flash(res, '/admin/webhooks', { kind: 'ok', text: `Endpoint “${endpoint.name}” deleted.` });
  });

  r.post('/webhooks/:id/test', async (req, res) => {
    const endpoint = await load(res, req.params.id);
    if (!endpoint) return;
    const requested = text((req.body as Record<string, unknown>).eventType);
    const eventType: EventType = (WEBHOOK_EVENT_TYPES as readonly string[]).includes(requested) ? (requested as EventType) : 'problem_report_created';
    if (!deps.discordRest) {
      await deps.flash(res, '/admin/webhooks', { kind: 'error', text: 'No Discord client is configured in this process, so no test can be sent.' });
      return;
    }
    const result = await sendWebhookTestMessage({ db: db.prisma, rest: deps.discordRest, baseUrl: deps.baseUrl, log }, endpoint.id, eventType);
    await deps.flash(
      res,
      '/admin/webhooks',
      result.ok
        ? {
            kind: 'ok',
            text: `Test message (${EVENT_LABELS[eventType]}) sent through “${endpoint.name}”: message ${result.messageId} in channel ${result.channelId}.`,
          }
        : {
            kind: 'error',
            text: `Test message through “${endpoint.name}” failed: ${result.error}.${result.endpointDisabled ? ' Discord says the webhook is gone or its token is wrong, so the endpoint was disabled.' : ''}`,
          },
    );
  });
}
