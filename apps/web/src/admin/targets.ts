/**
 * A delivery's target in words. The ledger keys targets for machines: a bot
 * post by its channel id, an edit by `edit:<record>:<id>`, a webhook post by
 * the endpoint's UUID. People read the channel's name, which post is
 * edited, and the endpoint's name; the key stays in a tooltip.
 */
import { type Html, html } from '../views/html';
import type { ChannelNamer } from './guild';

/** What a target description needs from a ledger row. */
export interface TargetRow {
  target: string;
  targetKey: string;
  /** The channel the post went to, when known (edits are keyed by record, not channel). */
  discordChannelId?: string | null;
}

/** Names used by {@link describeTarget}. */
export interface TargetNames {
  channel: ChannelNamer;
  /** The endpoint's name, or undefined when it was deleted. */
  endpoint: (id: string) => string | undefined;
}

const EDITED_POSTS: Record<string, string> = {
  problem_report: 'problem report',
  part_request: 'part request',
};

/** "bot → #channel", "bot edits the post of problem report #1 in #channel", "webhook “Name”". */
export function describeTarget(row: TargetRow, names: TargetNames): Html {
  if (row.target === 'webhook') {
    const name = names.endpoint(row.targetKey);
    return name === undefined
      ? html`webhook <span class="muted" title="endpoint ${row.targetKey}">(deleted endpoint)</span>`
      : html`webhook <strong title="endpoint ${row.targetKey}">${name}</strong>`;
  }
  const edit = /^edit:(\w+):(\d+)$/.exec(row.targetKey);
  if (edit !== null) {
    const [, record = '', id = ''] = edit;
    const where = row.discordChannelId ? html` in ${names.channel(row.discordChannelId)}` : '';
    return html`<span title="${row.targetKey}">bot edits the post of ${EDITED_POSTS[record] ?? record.replaceAll('_', ' ')} #${id}</span>${where}`;
  }
  return html`bot → ${names.channel(row.targetKey)}`;
}
