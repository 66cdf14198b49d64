/**
 * The admin console (`/admin`): login, overview, settings with test
 * messages, webhook endpoints (./webhooks.ts), the delivery log with
 * redelivery and the rollout parity summary, the job dashboard (bull-board)
 * and health in words. Every page needs a session; every form carries the
 * session's CSRF token.
 */
import { randomBytes } from 'node:crypto';
import type { REST } from '@discordjs/rest';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import { type NextFunction, type Request, type Response, Router } from 'express';
import type { RedisConnection as Redis } from '@flipfix/queue';
import { z, fieldsOf } from '@flipfix/config';
import {
  type Db,
  getSettings,
  isAppError,
  listSettingsAudit,
  type NotifySettings,
  type SettingsPatch,
  SettingsPatchSchema,
  updateSettings,
} from '@flipfix/db';
import { classifyDiscordError, formatTestMessage, postMessage } from '@flipfix/discord';
import { type EntityType, EVENT_LABELS, EVENT_TYPES, type EventType } from '@flipfix/events';
import type { Logger } from '@flipfix/logger';
import { listWebhookEndpoints, rolloutReport } from '@flipfix/legacy-webhooks';
import type { QUEUES } from '@flipfix/queue';
import type { WebConfig } from '../app';
import type { HealthReport, HealthService } from '../health';
import { type Html, html, type HtmlValue } from '../views/html';
import { blankForm, errorFor, fieldErrors, type FormState, inputField, invalidAttrs, NOT_SAVED, typedValues } from '../views/forms';
import { queryString } from '../views/lists';
import { ADMIN_NAV, layout, when } from '../views/pages-common';
import { recordPagePath } from '../views/record-text';
import { type AdminAuth, type AdminSession, CSRF_HEADER, isSafeMethod, safeEqual, safeNext } from './auth';
import { DELIVERY_STATUSES, type DeliveryView, EventsQuery, listEvents, redeliver, redeliverFailed, TARGETS } from './deliveries';
import { channelChoices, channelNamer, GuildDirectory, roleChoices, snowflakePicker } from './guild';
import { badge, csrfField, type Notice } from './kit';
import { readSettingsForm, settingLabel, settingsErrors, settingsFormValues } from './settings-form';
import { type RecordUrl, rolloutSummary } from './rollout-view';
import { describeTarget, type TargetNames } from './targets';
import { registerWebhookPages } from './webhooks';

export interface ConsoleDeps {
  db: Db;
  redis: Redis;
  queues: Record<keyof typeof QUEUES, Queue>;
  log: Logger;
  config: WebConfig;
  auth: AdminAuth;
  health: HealthService;
  discordRest?: REST | undefined;
  discordToken?: string | undefined;
  /** Queues outside the shared catalog shown in the job dashboard too (the digest flush queue). */
  dashboardQueues?: readonly Queue[] | undefined;
  onSettingsChanged: () => void;
}

const MODE_NOTES: Record<NotifySettings['deliveryMode'], string> = {
  webhooks:
    'Legacy only: each enabled event goes to the webhook endpoints subscribed to its type (see Webhooks), as before. The bot posts nothing, and status changes edit nothing.',
  both: 'Rollout comparison: the bot posts each enabled event to its channel and the subscribed webhook endpoints receive it too; the rollout parity summary on Deliveries compares the two.',
  bot: 'Bot only: the bot posts each enabled event to its channel; webhook endpoints receive nothing (they are kept, so switching back works).',
};

/** The job dashboard in the console's colours and system fonts (nothing loaded from the internet). */
const SYSTEM_FONTS = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
const QUEUES_UI = {
  boardTitle: 'Flipfix queues',
  hideDocsLink: true,
  theme: {
    light: {
      primary: '#2454d6',
      'primary-foreground': '#ffffff',
      background: '#f7f8fa',
      foreground: '#1d2330',
      border: '#e4e7ec',
      sidebar: '#111827',
      'sidebar-foreground': '#e5e7eb',
      'sidebar-primary': '#93c5fd',
      'sidebar-accent': '#1f2937',
      'sidebar-accent-foreground': '#ffffff',
      'sidebar-state-selected': '#1f2937',
      'sidebar-state-selected-foreground': '#ffffff',
      'sidebar-state-hover': '#1f2937',
      'sidebar-border': '#1f2937',
      'font-sans': SYSTEM_FONTS,
      'font-mono': 'ui-monospace, SFMono-Regular, Menlo, monospace',
    },
    dark: { primary: '#5b8def', 'font-sans': SYSTEM_FONTS, 'font-mono': 'ui-monospace, SFMono-Regular, Menlo, monospace' },
  },
};

/** The console's navigation bar, put above bull-board's page so the dashboard is one console page among the others. */
const QUEUES_BAR = html`<style>
/* bull-board lays out around a fixed header of height --header-offset: the bar takes the top 36 px of it. */
:root{--header-offset:calc(var(--header-height) + 36px)}[class^="header-"]{padding-top:36px}
.ff-bar{position:fixed;top:0;left:0;right:0;height:36px;z-index:200;display:flex;gap:1rem;align-items:center;padding:0 1rem;overflow-x:auto;white-space:nowrap;background:#111827;color:#fff;font:14px/1.4 ${SYSTEM_FONTS}}
.ff-bar a{color:#e5e7eb;text-decoration:none}.ff-bar a.brand{font-weight:700;color:#fff}.ff-bar a[aria-current]{color:#fff;border-bottom:2px solid #93c5fd}
</style><nav class="ff-bar" aria-label="Console"><a class="brand" href="/admin">Flipfix Notify · admin</a>${ADMIN_NAV.map(
  ([href, label]) => html`<a href="${href}"${href === '/admin/queues' ? html` aria-current="page"` : ''}>${label}</a>`,
)}</nav>`.toString();

/**
 * bull-board's page as a console page: its link to a web font on
 * fonts.googleapis.com is taken out (offline it stalls, and it would tell a
 * third party who opens the console; the theme names system fonts instead),
 * and the console's navigation bar is put on top.
 */
function asConsolePage(_req: Request, res: Response, next: NextFunction): void {
  const send = res.send.bind(res);
  res.send = (body?: unknown) => {
    if (typeof body !== 'string' || !body.includes('<div id="root">')) return send(body);
    return send(
      body
        .replace(/<link[^>]+href="https:\/\/fonts\.(?:googleapis|gstatic)\.com[^>]*>/g, '')
        .replace(/(<body[^>]*>)/, `$1${QUEUES_BAR}`),
    );
  };
  next();
}

function duration(ms: number | null): string {
  if (ms === null) return '—';
  if (ms < 1000) return `${ms} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.round(ms / 60_000)} min`;
}

/** Same-origin check for requests that cannot carry the CSRF token (bull-board's JSON calls). */
function sameOrigin(req: Request): boolean {
  const source = req.get('origin') ?? req.get('referer');
  if (!source) return false;
  try {
    return new URL(source).host === req.get('host');
  } catch {
    return false;
  }
}

export function adminConsoleRouter(deps: ConsoleDeps): Router {
  const { db, auth, config } = deps;
  // Our own record pages, relative (`/log-entries/7`), unless the records are another app's.
  const recordLink: RecordUrl = config.recordUrl ?? recordPagePath;
  const r = Router();
  const redeliverDeps = { db, queues: deps.queues, ...(config.retry ? { retry: config.retry } : {}) };
  const guild = new GuildDirectory({
    rest: deps.discordRest,
    token: deps.discordToken,
    anchorChannelId: config.defaultChannelId,
    ...(config.discordCacheMs === undefined ? {} : { cacheMs: config.discordCacheMs }),
  });

  const session = (res: Response) => res.locals.session as AdminSession;
  const page = async (res: Response, title: string, current: string, body: HtmlValue, status = 200, notice: Notice = null) => {
    const s = session(res);
    const flash = notice ?? (await auth.takeFlash(s));
    res
      .status(status)
      .type('html')
      .set('cache-control', 'no-store')
      .send(layout({ title, current, section: 'admin', csrf: s.csrf, notice: flash, body }).toString());
  };
  const flashAndRedirect = async (res: Response, to: string, notice: NonNullable<Notice>) => {
    await auth.setFlash(session(res), notice);
    res.redirect(303, to);
  };

  // ---------------------------------------------------------------- login (before the guard)
  r.use(auth.loadSession());

  const loginPage = (req: Request, res: Response, status: number, message: string | null) => {
    const token = auth.loginCsrf(req, res);
    const next = safeNext(req.query.next ?? (req.body as Record<string, unknown> | undefined)?.next);
    res
      .status(status)
      .type('html')
      .set('cache-control', 'no-store')
      .send(
        layout({
          title: 'Log in',
          section: 'login',
          notice: message === null ? null : { kind: 'error', text: message },
          body: html`<form class="card" method="post" action="/admin/login" style="max-width:26rem;margin:2rem auto">
<h1>Admin log in</h1>
<input type="hidden" name="_csrf" value="${token}"><input type="hidden" name="next" value="${next}">
<label for="token">Admin token</label><input id="token" type="password" name="token" autocomplete="current-password" required autofocus>
<button type="submit">Log in</button>
<p class="muted">The token is ADMIN_TOKEN; in development it is printed when the web app starts.</p></form>`,
        }).toString(),
      );
  };

  r.get('/login', (req, res) => {
    if (res.locals.session) {
      res.redirect(303, safeNext(req.query.next));
      return;
    }
    loginPage(req, res, 200, null);
  });
  r.post('/login', async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (!auth.checkLoginCsrf(req, body._csrf)) {
      loginPage(req, res, 403, 'The form expired. Please try again.');
      return;
    }
    // The right token always logs in; only wrong ones are counted and limited (see auth.ts).
    if (!auth.checkToken(body.token)) {
      const verdict = await auth.countFailure(req.ip ?? 'unknown');
      deps.log.warn({ ip: req.ip, limited: verdict.limited }, 'admin login refused');
      if (verdict.limited) {
        res.setHeader('Retry-After', String(verdict.retryAfterSeconds));
        loginPage(req, res, 429, `Too many wrong tokens. Try again in ${Math.ceil(verdict.retryAfterSeconds / 60)} minutes.`);
        return;
      }
      loginPage(req, res, 401, 'That token is not right.');
      return;
    }
    await auth.createSession(res, req);
    deps.log.info({ ip: req.ip }, 'admin logged in');
    res.redirect(303, safeNext(body.next));
  });

  // ---------------------------------------------------------------- job dashboard
  const board = new ExpressAdapter();
  board.setBasePath('/admin/queues');
  createBullBoard({
    queues: [...Object.values(deps.queues), ...(deps.dashboardQueues ?? [])].map((q) => new BullMQAdapter(q)),
    // @bull-board/express 9.10.1 nests its own @bull-board/api 9.10.1 next to our 9.10.2; the two
    // declare the same adapter class separately, so TypeScript needs the cast (runtime is identical).
    serverAdapter: board as unknown as Parameters<typeof createBullBoard>[0]['serverAdapter'],
    options: { uiConfig: QUEUES_UI },
  });
  r.use(
    '/queues',
    asConsolePage,
    (req: Request, res: Response, next: NextFunction) => {
      if (!res.locals.session) {
        if (isSafeMethod(req.method) && !req.path.startsWith('/api/')) res.redirect(303, `/admin/login?next=${encodeURIComponent(req.originalUrl)}`);
        else res.status(401).json({ error: 'unauthorized', message: 'log in to the admin console first' });
        return;
      }
      // bull-board's UI sends its own JSON requests and cannot add our CSRF header, so its
      // mutations must come from this origin (the session cookie is SameSite=Lax as well).
      if (!isSafeMethod(req.method)) {
        const header = req.get(CSRF_HEADER);
        const tokenOk = header !== undefined && safeEqual(header, session(res).csrf);
        if (!tokenOk && !sameOrigin(req)) {
          res.status(403).json({ error: 'forbidden', message: 'cross-origin request refused' });
          return;
        }
      }
      next();
    },
    board.getRouter(),
  );

  // ---------------------------------------------------------------- everything else needs a session
  r.use(auth.requirePage());

  r.post('/logout', async (req, res) => {
    await auth.destroySession(req, res);
    res.redirect(303, '/admin/login');
  });

  r.get('/', async (_req, res) => {
    const since = new Date(Date.now() - 24 * 3600_000);
    const [settings, counts, failures, report, names] = await Promise.all([
      getSettings(db.prisma),
      db.prisma.delivery.groupBy({ by: ['target', 'status'], where: { createdAt: { gte: since } }, _count: { _all: true } }),
      db.prisma.delivery.findMany({
        where: { status: 'failed' },
        orderBy: { updatedAt: 'desc' },
        take: 10,
        include: { event: { select: { type: true, entityType: true, entityId: true } } },
      }),
      deps.health.check(),
      targetNames(),
    ]);
    const byStatus = (status: string, target?: string) =>
      counts.filter((c) => c.status === status && (target === undefined || c.target === target)).reduce((n, c) => n + c._count._all, 0);
    await page(
      res,
      'Overview',
      '/admin',
      html`<h1>Overview</h1>
<div class="card"><p><strong>Delivery mode:</strong> ${badge(settings.deliveryMode)} — ${MODE_NOTES[settings.deliveryMode]}</p>
<p><strong>Health:</strong> ${report.status === 'ok' ? html`${badge('ok')} everything answers.` : html`${badge(report.status)} ${report.reasons.join('; ')}`} <a href="/admin/health">Details</a></p></div>
<h2>Deliveries in the last 24 hours</h2>
<div class="stats">${DELIVERY_STATUSES.map((s) => html`<div class="stat"><b>${byStatus(s)}</b>${s}</div>`)}</div>
<p class="muted">Bot: ${byStatus('delivered', 'bot')} delivered, ${byStatus('failed', 'bot')} failed · Webhooks: ${byStatus('delivered', 'webhook')} delivered, ${byStatus('failed', 'webhook')} failed</p>
<h2>Recent failures</h2>
${
  failures.length === 0
    ? html`<p class="muted">No failed deliveries.</p>`
    : html`<div class="table-wrap"><table><thead><tr><th>When</th><th>Event</th><th>Target</th><th>Reason</th></tr></thead><tbody>${failures.map(
        (f) => html`<tr><td>${when(f.updatedAt)}</td><td>${EVENT_LABELS[f.event.type as EventType] ?? f.event.type}</td><td>${describeTarget(f, names)}</td><td>${f.lastError ?? ''}</td></tr>`,
      )}</tbody></table></div><p><a href="/admin/deliveries?status=failed">All failed deliveries</a></p>`
}`,
    );
  });

  // ---------------------------------------------------------------- settings
  const settingsPage = async (res: Response, form: FormState | null = null, status = 200) => {
    const [s, audit, endpoints, channels, roles] = await Promise.all([
      getSettings(db.prisma),
      listSettingsAudit(db.prisma, 50),
      listWebhookEndpoints(db.prisma),
      guild.channels(),
      guild.roles(),
    ]);
    // A refused form shows what was typed; otherwise the settings in force.
    const shown: FormState = form ?? blankForm(settingsFormValues(s));
    const value = (name: string) => shown.values[name] ?? '';
    const checked = (name: string) => (shown.values[name] === 'on' ? html` checked` : '');
    const csrf = csrfField(session(res));
    const channelName = channelNamer(channels);
    const enabledEndpoints = endpoints.filter((e) => e.enabled).length;
    const effective = (t: EventType) => s.events[t].channelId ?? s.channelId ?? config.defaultChannelId;
    const defaultLabel = channels?.find((c) => c.id === config.defaultChannelId)?.name;
    const show = (v: unknown) => (v === null || v === undefined ? '—' : typeof v === 'string' ? v : JSON.stringify(v));
    const mode = value('deliveryMode') || s.deliveryMode;
    await page(
      res,
      'Settings',
      '/admin/settings',
      html`<h1>Settings</h1>
<form class="card" method="post" action="/admin/settings" novalidate>${csrf}
<h2>Delivery mode</h2>
${(['webhooks', 'both', 'bot'] as const).map(
  (m) => html`<label class="check"><input type="radio" name="deliveryMode" value="${m}"${mode === m ? html` checked` : ''}> <span><strong>${m}</strong> — <span class="muted">${MODE_NOTES[m]}</span></span></label>`,
)}${errorFor(shown, 'deliveryMode', 'deliveryMode')}
<p class="muted" id="endpoint-count">${
  enabledEndpoints === 0
    ? html`No webhook endpoint is enabled${s.deliveryMode === 'bot' ? '' : html`: <strong>in this mode the webhooks post nothing</strong>`}. <a href="/admin/webhooks">Add or enable one</a>.`
    : html`${enabledEndpoints} webhook endpoint${enabledEndpoints === 1 ? ' is' : 's are'} enabled (<a href="/admin/webhooks">Webhooks</a>).`
} Channels, threads, reactions, the role mention and digests below apply to bot posts only; webhooks post the same embeds as before.</p>
<label for="channelId">Default channel</label>${snowflakePicker({
        id: 'channelId',
        name: 'channelId',
        value: value('channelId'),
        choices: channelChoices(channels),
        kind: 'channel',
        emptyLabel: `${defaultLabel === undefined ? config.defaultChannelId : `#${defaultLabel}`} (from DISCORD_CHANNEL_ID)`,
        attrs: invalidAttrs(shown, 'channelId', 'channelId'),
      })}${errorFor(shown, 'channelId', 'channelId')}
${channels === null ? html`<p class="muted small">The channel list cannot be read from Discord right now, so channels are given by id (17 to 20 digits).</p>` : ''}
<h2>Events</h2>
<div class="table-wrap"><table class="events"><thead><tr><th>Event</th><th>Posted</th><th>Channel</th><th>Reactions (up to 3)</th></tr></thead><tbody>
${EVENT_TYPES.map((t) => {
  const channelField = `events.${t}.channelId`;
  const reactionsField = `reactions.${t}`;
  const fieldId = (name: string) => name.replaceAll('.', '-');
  return html`<tr><td>${EVENT_LABELS[t]}</td>
<td><input type="hidden" name="events.${t}.present" value="1"><label class="check"><input type="checkbox" name="events.${t}.enabled" value="on"${checked(`events.${t}.enabled`)} aria-label="Post ${EVENT_LABELS[t]}"> on</label></td>
<td><span class="sm-only">Channel</span>${snowflakePicker({
    id: fieldId(channelField),
    name: channelField,
    value: value(channelField),
    choices: channelChoices(channels),
    kind: 'channel',
    emptyLabel: 'Default channel',
    attrs: html` aria-label="Channel for ${EVENT_LABELS[t]}"${invalidAttrs(shown, channelField, fieldId(channelField))}`,
  })}${errorFor(shown, channelField, fieldId(channelField))}</td>
<td>${
    t === 'problem_report_status_changed'
      ? html`<span class="muted">edits the report's post</span>`
      : html`<span class="sm-only">Reactions (up to 3)</span><input id="${fieldId(reactionsField)}" type="text" name="${reactionsField}" value="${value(reactionsField)}" placeholder="e.g. 👀 ✅" aria-label="Reactions for ${EVENT_LABELS[t]}"${invalidAttrs(shown, reactionsField, fieldId(reactionsField))}>${errorFor(shown, reactionsField, fieldId(reactionsField))}`
  }</td></tr>`;
})}
</tbody></table></div>
<h2>Posts</h2>
<label class="check"><input type="checkbox" name="threadsEnabled" value="on"${checked('threadsEnabled')}> <span>Start a thread on each problem report and part request post (log entries and updates about it go into the thread)</span></label>
<label for="role">Role to mention on unplayable reports${roles === null ? ' (role id, 17 to 20 digits; empty for none)' : ''}</label>${snowflakePicker({
        id: 'role',
        name: 'unplayableRoleId',
        value: value('unplayableRoleId'),
        choices: roleChoices(roles),
        kind: 'role',
        emptyLabel: 'No role',
        attrs: invalidAttrs(shown, 'unplayableRoleId', 'role'),
      })}${errorFor(shown, 'unplayableRoleId', 'role')}
<h2>Digest</h2>
<label class="check"><input type="checkbox" name="digest.enabled" value="on"${checked('digest.enabled')}> <span>Combine bursts of posts by one person into one digest post (unplayable reports always go out at once)</span></label>
<div class="row top"><div>${inputField(shown, { id: 'quiet', name: 'digest.quietSeconds', label: 'Quiet period (seconds)', type: 'number', attrs: html` min="10" max="3600"` })}</div>
<div>${inputField(shown, { id: 'max', name: 'digest.maxSeconds', label: 'Longest wait (seconds)', type: 'number', attrs: html` min="10" max="86400"` })}</div></div>
<button type="submit">Save settings</button>
</form>
<div class="card"><h2>Send a test message</h2>
<p class="muted">Posts a sample of each event type with the bot to the channel it would use now.</p>
<div class="table-wrap"><table><tbody>${EVENT_TYPES.map(
        (t) => html`<tr><td>${EVENT_LABELS[t]}</td><td>${channelName(effective(t))}</td><td><form method="post" action="/admin/settings/test" class="inline">${csrf}<input type="hidden" name="eventType" value="${t}"><button type="submit" class="small secondary">Send test</button></form></td></tr>`,
      )}</tbody></table></div></div>
<h2>Changes</h2>
${
  audit.length === 0
    ? html`<p class="muted">No changes yet.</p>`
    : html`<div class="table-wrap"><table id="audit"><thead><tr><th>When</th><th>Who</th><th>Setting</th><th>From → to</th></tr></thead><tbody>${audit.map(
        (a) => html`<tr><td>${when(a.createdAt)}</td><td>${a.actor}</td><td title="${a.field}">${settingLabel(a.field)}</td><td>${show(a.fromValue)} → ${show(a.toValue)}</td></tr>`,
      )}</tbody></table></div>`
}`,
      status,
      form === null ? null : NOT_SAVED,
    );
  };

  r.get('/settings', async (_req, res) => {
    await settingsPage(res);
  });

  /**
   * The whole form is checked at once: every bad field is reported beside
   * itself, nothing is saved, and the page shows everything as typed.
   */
  r.post('/settings', async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const { patch, errors } = readSettingsForm(body);
    const parsed = SettingsPatchSchema.safeParse(patch);
    if (!parsed.success) Object.assign(errors, settingsErrors(parsed.error), errors);
    if (Object.keys(errors).length > 0) {
      await settingsPage(res, { values: typedValues(body), errors }, 400);
      return;
    }
    try {
      await updateSettings(db.prisma, patch as SettingsPatch, 'console');
    } catch (err) {
      const refused = fieldErrors(err);
      if (refused === null) throw err;
      await settingsPage(res, { values: typedValues(body), errors: refused }, 400);
      return;
    }
    deps.onSettingsChanged();
    await flashAndRedirect(res, '/admin/settings', { kind: 'ok', text: 'Settings saved. Workers apply them within a second.' });
  });

  r.post('/settings/test', async (req, res) => {
    const parsed = z.object({ eventType: z.enum(EVENT_TYPES) }).safeParse(req.body);
    if (!parsed.success) {
      await flashAndRedirect(res, '/admin/settings', { kind: 'error', text: `Unknown event type (${Object.values(fieldsOf(parsed.error)).join(', ')}).` });
      return;
    }
    const type = parsed.data.eventType;
    if (!deps.discordRest) {
      await flashAndRedirect(res, '/admin/settings', { kind: 'error', text: 'No Discord client is configured in this process.' });
      return;
    }
    const s = await getSettings(db.prisma);
    const channelId = s.events[type].channelId ?? s.channelId ?? config.defaultChannelId;
    if (deps.discordToken) deps.discordRest.setToken(deps.discordToken);
    try {
      const message = await postMessage(deps.discordRest, channelId, formatTestMessage(type, config.baseUrl), {
        nonce: randomBytes(12).toString('hex'),
      });
      await flashAndRedirect(res, '/admin/settings', {
        kind: 'ok',
        text: `Test message for ${EVENT_LABELS[type]} posted to ${await channelLabel(channelId)}: message ${message.id}.`,
      });
    } catch (err) {
      const failure = classifyDiscordError(err);
      deps.log.warn({ channelId, reason: failure.reason }, 'test message failed');
      await flashAndRedirect(res, '/admin/settings', { kind: 'error', text: `Test message for ${EVENT_LABELS[type]} not posted: ${failure.reason}` });
    }
  });

  // ---------------------------------------------------------------- deliveries
  const messageLink = (d: DeliveryView): HtmlValue => {
    if (!d.discordMessageId || !d.discordChannelId) return '';
    // A flood batch or a digest carries several events' embeds in one message.
    const inBatch = d.batchId !== null && d.embedIndex !== null;
    const prefix = inBatch ? `embed ${(d.embedIndex ?? 0) + 1} of ` : d.digestKey !== null && d.status === 'delivered' ? 'in digest ' : '';
    const label = html`${prefix}message <span class="id">${d.discordMessageId}</span>`;
    if (config.simulatorUrl) {
      return html`<a href="${config.simulatorUrl}/#${d.discordChannelId}-${d.discordMessageId}" rel="noopener">${label}</a>`;
    }
    if (config.guildId) {
      return html`<a href="https://discord.com/channels/${config.guildId}/${d.discordChannelId}/${d.discordMessageId}" rel="noopener">${label}</a>`;
    }
    return label;
  };

  /** `#name` for a flash message (plain text), or `channel <id>` when the name is unknown. */
  const channelLabel = async (id: string): Promise<string> => {
    const name = (await guild.channels())?.find((c) => c.id === id)?.name;
    return name === undefined ? `channel ${id}` : `#${name}`;
  };

  /** Names for targets: endpoints from the ledger's side table, channels from the guild. */
  const targetNames = async (): Promise<TargetNames> => {
    const [endpoints, channels] = await Promise.all([listWebhookEndpoints(db.prisma), guild.channels()]);
    const names = new Map(endpoints.map((e) => [e.id, e.name]));
    return { endpoint: (id) => names.get(id), channel: channelNamer(channels) };
  };

  /** The delivery log's filters as a query string (only known values), to come back to after an action. */
  const logFilters = (q: EventsQuery, extra: Record<string, string | undefined> = {}) =>
    queryString({ type: q.type, status: q.status, target: q.target, limit: q.limit, before: q.before, ...extra });

  r.get('/deliveries', async (req, res) => {
    const parsed = EventsQuery.safeParse(req.query);
    const q: EventsQuery = parsed.success ? parsed.data : {};
    const pageSize = q.limit ?? 50;
    const [found, report, settings, names] = await Promise.all([
      listEvents(db, { ...q, limit: pageSize + 1 }),
      rolloutReport(db.prisma),
      getSettings(db.prisma),
      targetNames(),
    ]);
    const events = found.slice(0, pageSize);
    const next = found.length > pageSize ? events[events.length - 1]?.seq : undefined;
    const back = `/admin/deliveries${logFilters(q)}`;
    const csrf = csrfField(session(res));
    const backField = html`<input type="hidden" name="back" value="${back}">`;
    const select = (name: string, values: readonly string[], current: string | undefined, labels: Record<string, string> = {}) =>
      html`<select name="${name}" id="f-${name}"><option value="">any</option>${values.map(
        (v) => html`<option value="${v}"${current === v ? html` selected` : ''}>${labels[v] ?? v}</option>`,
      )}</select>`;
    const filtered = q.type !== undefined || q.status !== undefined || q.target !== undefined;
    await page(
      res,
      'Deliveries',
      '/admin/deliveries',
      html`<h1>Deliveries</h1>
${rolloutSummary(report, settings.deliveryMode, (id) => names.endpoint(id) ?? 'deleted endpoint', recordLink)}
<h2 id="log">Delivery log</h2>
<form class="card row filters" method="get" action="/admin/deliveries#log">
<div><label for="f-type">Event type</label>${select('type', EVENT_TYPES, q.type, EVENT_LABELS)}</div>
<div><label for="f-status">Status</label>${select('status', DELIVERY_STATUSES, q.status, { held: 'held (in a digest)' })}</div>
<div><label for="f-target">Target</label>${select('target', TARGETS, q.target, { bot: 'bot', webhook: 'webhook' })}</div>
<div class="filter-actions"><button type="submit">Filter</button>${filtered ? html` <a class="button secondary" href="/admin/deliveries#log">Clear</a>` : ''}</div></form>
<form method="post" action="/admin/deliveries/redeliver-failed" class="log-actions">${csrf}${backField}<button type="submit" class="secondary">Redeliver all failed</button></form>
${parsed.success ? '' : html`<p class="notice error">Some filters were not understood and were ignored.</p>`}
${
  events.length === 0
    ? html`<p class="muted">${filtered ? 'No deliveries match these filters.' : 'No events yet.'}</p>`
    : html`<div class="table-wrap"><table class="log"><thead><tr><th>Event</th><th>Target</th><th>Status</th><th>Attempts</th><th>Timing</th><th>Result</th><th></th></tr></thead><tbody>
${events.map((e) => {
  const head = html`<td class="event" rowspan="${Math.max(1, e.deliveries.length)}"><strong>${EVENT_LABELS[e.type as EventType] ?? e.type}</strong><div class="muted"><a href="${recordLink(e.entityType as EntityType, e.entityId) ?? '#'}">${e.entityType.replaceAll('_', ' ')} #${e.entityId}</a> · ${when(e.createdAt)}${e.actorName ? ` · ${e.actorName}` : ''}</div></td>`;
  if (e.deliveries.length === 0) return html`<tr data-event="${e.id}">${head}<td colspan="6" class="muted">${e.routedAt ? 'no targets' : 'not routed yet'}</td></tr>`;
  return e.deliveries.map(
    (d, i) => html`<tr data-event="${e.id}" data-delivery="${d.id}" data-target="${d.target}">${i === 0 ? head : ''}
<td>${describeTarget(d, names)}${d.digestKey ? html`<div class="muted" title="digest ${d.digestKey}">in a digest${digestActor(d.digestKey)}</div>` : ''}</td>
<td>${badge(d.status)}</td><td>${d.attempts}<span class="sm-only"> ${d.attempts === 1 ? 'attempt' : 'attempts'}</span></td>
<td>${d.latencyMs === null ? html`<span class="muted">—</span>` : html`${duration(d.latencyMs)} after the event`}<div class="muted">first try ${when(d.firstAttemptAt)}</div></td>
<td>${messageLink(d)}${d.lastError ? html`<div class="${d.status === 'failed' ? 'notice error' : 'muted'}">${d.lastError}</div>` : ''}${d.errorClass ? html`<div class="muted">${d.errorClass}</div>` : ''}</td>
<td>${
      d.status === 'pending' || d.status === 'sending'
        ? ''
        : d.status === 'held'
          ? html`<span class="muted">posts with its digest</span>`
          : html`<form method="post" action="/admin/deliveries/${d.id}/redeliver">${csrf}${backField}${d.status === 'delivered' ? html`<input type="hidden" name="force" value="true">` : ''}<button type="submit" class="small${d.status === 'delivered' ? ' secondary' : ''}">${d.status === 'delivered' ? 'Post again' : 'Redeliver'}</button></form>`
    }</td></tr>`,
  );
})}
</tbody></table></div>`
}
${
  q.before !== undefined || next !== undefined
    ? html`<nav class="pager" aria-label="Pages">${q.before === undefined ? html`<span></span>` : html`<a href="/admin/deliveries${logFilters(q, { before: undefined })}#log">← Newest</a>`}${
        next === undefined ? html`<span></span>` : html`<a href="/admin/deliveries${logFilters(q, { before: next })}#log" rel="next">Older →</a>`
      }</nav>`
    : ''
}`,
    );
  });

  /** Where an action on the log returns to: the log as it was filtered (only a path on this page is accepted). */
  const backTo = (body: unknown): string => {
    const back = (body as Record<string, unknown> | undefined)?.back;
    if (typeof back !== 'string' || !back.startsWith('/admin/deliveries')) return '/admin/deliveries';
    const parsed = EventsQuery.safeParse(Object.fromEntries(new URL(back, 'http://x').searchParams));
    return `/admin/deliveries${parsed.success ? logFilters(parsed.data) : ''}#log`;
  };

  r.post('/deliveries/redeliver-failed', async (req, res) => {
    const result = await redeliverFailed(redeliverDeps, { actor: 'console' });
    await flashAndRedirect(res, backTo(req.body), { kind: 'ok', text: `${result.count} failed deliver${result.count === 1 ? 'y' : 'ies'} queued again.` });
  });
  r.post('/deliveries/:id/redeliver', async (req, res) => {
    const force = (req.body as Record<string, unknown>).force === 'true';
    try {
      await redeliver(redeliverDeps, req.params.id ?? '', { force, actor: 'console' });
      await flashAndRedirect(res, backTo(req.body), { kind: 'ok', text: force ? 'Posting it again.' : 'Delivery queued again.' });
    } catch (err) {
      if (!isAppError(err)) throw err;
      await flashAndRedirect(res, backTo(req.body), { kind: 'error', text: err.message });
    }
  });

  // ---------------------------------------------------------------- webhook endpoints (the legacy path)
  registerWebhookPages(r, {
    db,
    log: deps.log,
    baseUrl: config.baseUrl,
    allowDevelopmentUrls: config.allowDevelopmentWebhookUrls ?? false,
    discordRest: deps.discordRest,
    page,
    flash: flashAndRedirect,
    session,
  });

  // ---------------------------------------------------------------- health in words
  r.get('/health', async (_req, res) => {
    const report = await deps.health.check();
    await page(res, 'Health', '/admin/health', healthBody(report, await targetNames()));
  });

  return r;
}

/** `<channel>:<actor>` → " for <actor>". */
function digestActor(digestKey: string): string {
  const actor = digestKey.slice(digestKey.indexOf(':') + 1);
  return actor === '' ? '' : ` for ${actor}`;
}

function line(name: string, check: { ok: boolean; message: string; latencyMs?: number }): Html {
  return html`<li>${badge(check.ok ? 'ok' : 'down')} <strong>${name}:</strong> ${check.message}${check.latencyMs === undefined ? '' : html` <span class="muted">(${check.latencyMs} ms)</span>`}</li>`;
}

function healthBody(report: HealthReport, names: TargetNames): Html {
  const { checks } = report;
  const depths = Object.entries(checks.queues.depths);
  return html`<h1>Health ${badge(report.status)}</h1>
${report.status === 'ok' ? html`<p class="notice ok">Everything answers.</p>` : html`<div class="notice ${report.status === 'down' ? 'error' : 'warn'}"><strong>${report.status === 'down' ? 'Nothing can be delivered:' : 'Delivering, but needs attention:'}</strong><ul>${report.reasons.map((r) => html`<li>${r}</li>`)}</ul></div>`}
<div class="card"><ul class="list">
${line('Postgres', checks.postgres)}${line('Redis', checks.redis)}${line('Queues', checks.queues)}
${line('Outbox LISTEN', checks.outboxListen)}
${checks.discord ? html`${line('Discord token', checks.discord.token)}${line('Default channel', checks.discord.channel)}${line('Recent deliveries', checks.discord.recentFailures)}` : html`<li class="muted">Discord checks are off (no bot client in this process).</li>`}
</ul></div>
<h2>Queue depths</h2>
<div class="table-wrap"><table><thead><tr><th>Queue</th><th>Waiting</th><th>Active</th><th>Delayed</th><th>Failed</th></tr></thead><tbody>${depths.map(
    ([name, d]) => html`<tr><td>${name}</td><td>${d?.waiting}</td><td>${d?.active}</td><td>${d?.delayed}</td><td>${d?.failed}</td></tr>`,
  )}</tbody></table></div>
${
  checks.discord && checks.discord.recentFailures.items.length > 0
    ? html`<h2>Recent permanent failures</h2><ul class="list card">${checks.discord.recentFailures.items.map(
        (f) => html`<li>${when(f.at)} · ${describeTarget(f, names)}: ${f.reason}</li>`,
      )}</ul>`
    : ''
}
<p class="muted">Checked ${when(report.checkedAt)}. JSON at <a href="/health">/health</a>, metrics at <a href="/metrics">/metrics</a>.</p>`;
}
