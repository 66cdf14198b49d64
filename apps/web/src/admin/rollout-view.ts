/**
 * The rollout parity summary on the deliveries page: what
 * `rolloutReport` (packages/legacy-webhooks) found for the events delivered
 * while the mode was `both`, in words an admin decides on.
 */
import type { DeliveryMode } from '@flipfix/db';
import { EVENT_ENTITY, EVENT_LABELS, type EntityType, type EventType, isEventType } from '@flipfix/events';
import type { ParityMismatch, RolloutReport } from '@flipfix/legacy-webhooks';
import { type Html, html } from '../views/html';
import { when } from '../views/pages-common';
import { badge } from './kit';

/** Mismatches listed on the page; the JSON API has up to 100. */
const SHOWN = 20;

const PROBLEMS: Record<ParityMismatch['problem'], string> = {
  webhook_failed: 'only the bot delivered',
  bot_failed: 'only the webhook delivered',
  both_failed: 'both failed',
  payload_differs: 'payloads differ',
};

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

function verdict(report: RolloutReport): Html {
  const { counts } = report;
  if (report.events === 0) {
    return html`<p class="muted">No evidence yet. Set the delivery mode to <code>both</code> (in <a href="/admin/settings">Settings</a>) with at least one enabled <a href="/admin/webhooks">webhook endpoint</a>, and let events flow.</p>`;
  }
  if (report.ready) {
    return html`<p class="notice ok" id="rollout-verdict"><strong>Ready to switch to bot.</strong> ${report.events === 1 ? 'The one event' : `All ${report.events} events`} went out through both paths with the same embeds. Switch the delivery mode to <code>bot</code> in <a href="/admin/settings">Settings</a>.</p>`;
  }
  const problems = counts.onlyBot + counts.onlyWebhook + counts.bothFailed + report.payloads.different;
  if (problems === 0) {
    return html`<p class="notice" id="rollout-verdict">Not decided yet: ${plural(counts.pending, 'event is', 'events are')} still being delivered.</p>`;
  }
  return html`<p class="notice error" id="rollout-verdict"><strong>Not ready to switch.</strong> ${plural(problems, 'event does', 'events do')} not match (listed below). Fix the cause, redeliver, and the count follows.</p>`;
}

function mismatchRow(m: ParityMismatch, endpointName: (id: string) => string, recordUrl: RecordUrl): Html {
  const path = isEventType(m.type) ? recordUrl(EVENT_ENTITY[m.type], m.entityId) : null;
  const label = EVENT_LABELS[m.type as EventType] ?? m.type;
  return html`<tr data-mismatch="${m.eventId}"><td>${when(m.createdAt)}</td>
<td>${path ? html`<a href="${path}">${label} #${m.entityId}</a>` : html`${label} #${m.entityId}`}</td>
<td>${PROBLEMS[m.problem]}</td>
<td>${badge(m.bot.status.split(',')[0] ?? m.bot.status, m.bot.status)}${m.bot.error ? html`<div class="muted">${m.bot.error}</div>` : ''}</td>
<td>${m.webhooks.map(
    (w) => html`<div>${endpointName(w.endpointId)}: ${badge(w.status)}${w.error ? html` <span class="muted">${w.error}</span>` : ''}${
      w.differences && w.differences.length > 0 ? html`<div class="muted">differs in ${w.differences.map((d, i) => html`${i > 0 ? ', ' : ''}<code>${d}</code>`)}</div>` : ''
    }</div>`,
  )}</td></tr>`;
}

/**
 * The summary card: counts, the verdict ("ready to switch to bot") and the
 * newest mismatches with what differs. `endpointName` turns an endpoint id
 * into its name (deleted endpoints keep their id).
 */
/** The page of a record (our own, or the attached app's). */
export type RecordUrl = (entityType: EntityType, id: number) => string | null;

export function rolloutSummary(report: RolloutReport, mode: DeliveryMode, endpointName: (id: string) => string, recordUrl: RecordUrl): Html {
  const { counts, payloads } = report;
  const stat = (key: string, n: number, label: string) => html`<div class="stat" data-count="${key}"><b>${n}</b>${label}</div>`;
  if (report.events === 0) {
    // Nothing to count yet: one line instead of a row of zeros.
    return html`<section class="card rollout" id="rollout" aria-labelledby="rollout-title"><h2 id="rollout-title">Rollout parity</h2>${verdict(report)}</section>`;
  }
  const shown = report.mismatches.slice(0, SHOWN);
  const more = report.mismatches.length - shown.length;
  return html`<section class="card rollout" id="rollout" aria-labelledby="rollout-title">
<h2 id="rollout-title">Rollout parity</h2>
<p class="muted">Events that went to the bot and to webhooks (delivery mode <code>both</code>). Mode now: ${badge(mode)}.</p>
<div class="stats">${stat('bothDelivered', counts.bothDelivered, 'both delivered')}${stat('onlyBot', counts.onlyBot, 'only bot')}${stat('onlyWebhook', counts.onlyWebhook, 'only webhook')}${stat(
    'bothFailed',
    counts.bothFailed,
    'both failed',
  )}${stat('pending', counts.pending, 'pending')}</div>
${payloads.compared > 0 ? html`<p class="muted">Embeds compared for ${plural(payloads.compared, 'event', 'events')}: ${payloads.equivalent} the same, ${payloads.different} different.</p>` : ''}
${verdict(report)}
${
  shown.length === 0
    ? ''
    : html`<h3>Mismatches, newest first</h3><div class="table-wrap"><table id="mismatches"><thead><tr><th>When</th><th>Event</th><th>Problem</th><th>Bot</th><th>Webhooks</th></tr></thead><tbody>${shown.map((m) =>
        mismatchRow(m, endpointName, recordUrl),
      )}</tbody></table></div>${
        more > 0 || report.mismatchesTruncated ? html`<p class="muted">More mismatches in <a href="/api/admin/rollout">the JSON report</a>.</p>` : ''
      }`
}
</section>`;
}
