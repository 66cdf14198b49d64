/**
 * Small pieces shared by the console's pages: the page and flash helpers'
 * shapes, the CSRF field and status badges.
 */
import type { Response } from 'express';
import { type Html, html, type HtmlValue } from '../views/html';
import type { AdminSession } from './auth';

/** A one-line notice above a page's content. */
export type Notice = { kind: 'ok' | 'error'; text: string } | null;

/** Renders a console page in the admin shell (with the session's pending flash unless `notice` is given). */
export type RenderPage = (res: Response, title: string, current: string, body: HtmlValue, status?: number, notice?: Notice) => Promise<void>;

/** Stores a notice for the next page and answers 303 to `to` (post/redirect/get). */
export type FlashRedirect = (res: Response, to: string, notice: NonNullable<Notice>) => Promise<void>;

/** The hidden field every console form carries. */
export function csrfField(session: AdminSession): Html {
  return html`<input type="hidden" name="_csrf" value="${session.csrf}">`;
}

/** A status pill; the value doubles as its CSS class. */
export function badge(value: string, label?: string): Html {
  return html`<span class="badge ${value}">${label ?? value.replaceAll('_', ' ')}</span>`;
}
