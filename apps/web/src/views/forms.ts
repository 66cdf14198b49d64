/**
 * Forms that keep what was typed: a form is rendered from the raw values the
 * browser sent plus an error per field, shown beside the field in plain
 * words. Validation speaks in internal paths (`photoUrls.0`, "must be an
 * http(s) URL"); {@link fieldErrors} turns those into sentences a person
 * can act on, keyed by the form field they belong to.
 */
import { fieldsOf, z } from '@flipfix/config';
import { isAppError } from '@flipfix/db';
import { type Html, html, type HtmlValue } from './html';

/** Form field name → a sentence saying what is wrong with it. */
export type FieldErrors = Record<string, string>;

/** What a form shows: the values as typed (strings) and the errors by field. */
export interface FormState {
  values: Record<string, string>;
  errors: FieldErrors;
}

/** A form shown for the first time. */
export function blankForm(values: Record<string, string> = {}): FormState {
  return { values, errors: {} };
}

/** The submitted body as strings (repeated fields joined by newlines), without the CSRF token. */
export function typedValues(body: unknown): Record<string, string> {
  const source = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(source)) {
    if (key === '_csrf') continue;
    if (typeof value === 'string') out[key] = value;
    else if (Array.isArray(value)) out[key] = value.filter((v) => typeof v === 'string').join('\n');
  }
  return out;
}

/** Validation's wording → a person's wording; anything not listed is kept, as a sentence. */
const PLAIN: [RegExp, string | ((...groups: string[]) => string)][] = [
  [/^(is required|must not be empty)$/, 'Please fill this in.'],
  [/^must be an http\(s\) URL( without credentials)?$/, 'is not a web address: it must start with http:// or https:// and hold no password'],
  [/^must be a (number|whole number|positive id)$/, 'Must be a number, like 12.'],
  [/^must be a Discord snowflake \(17-20 digits\)$/, 'Must be a Discord id: 17 to 20 digits.'],
  [/^Too small: expected number to be >=(\d+)$/, (n) => `Must be at least ${n}.`],
  [/^Too big: expected number to be <=(\d+)$/, (n) => `Must be at most ${n}.`],
  [/^must be one of: (.*)$/, (list) => `Pick one of: ${(list ?? '').replaceAll('_', ' ')}.`],
  [/^(.+) (\d+) not found$/, (entity, id) => `There is no ${(entity ?? '').toLowerCase()} #${id}.`],
];

/** One validation message as a sentence. */
export function plainMessage(message: string): string {
  for (const [pattern, replacement] of PLAIN) {
    const match = pattern.exec(message);
    if (match === null) continue;
    const text = typeof replacement === 'string' ? replacement : replacement(...match.slice(1));
    return sentence(text);
  }
  return sentence(message);
}

function sentence(text: string): string {
  const trimmed = text.trim();
  const capital = trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}

/**
 * The errors of a refused form by form field, or null when `err` is not about
 * the input (the caller rethrows it). A list field's item (`photoUrls.1`) is
 * reported on the list's field as "Line 2 …", since the form shows one item a line.
 */
export function fieldErrors(err: unknown): FieldErrors | null {
  if (err instanceof z.ZodError) {
    const out: FieldErrors = {};
    for (const [path, message] of Object.entries(fieldsOf(err))) {
      const [field = 'body', index] = path.split('.');
      if (out[field] !== undefined) continue;
      out[field] =
        index !== undefined && /^\d+$/.test(index)
          ? sentence(`Line ${Number(index) + 1} ${plainMessage(message).replace(/^Please fill this in\.$/, 'is empty').replace(/^(\w)/, (c) => c.toLowerCase())}`)
          : plainMessage(message);
    }
    return out;
  }
  if (isAppError(err) && (err.field !== undefined || err.code !== 'not_found')) {
    return { [err.field ?? 'body']: plainMessage(err.message) };
  }
  return null;
}

/** The notice above a refused form. */
export const NOT_SAVED = { kind: 'error', text: 'Not saved: please check the fields marked below. Everything you typed is still there.' } as const;

/** The error under a field, linked to it for screen readers. */
export function errorFor(form: FormState, name: string, id: string): HtmlValue {
  const message = form.errors[name];
  return message === undefined ? '' : html`<p class="field-error" id="${id}-error">${message}</p>`;
}

/** `aria-invalid` and `aria-describedby` on a field that has an error. */
export function invalidAttrs(form: FormState, name: string, id: string): HtmlValue {
  return form.errors[name] === undefined ? '' : html` aria-invalid="true" aria-describedby="${id}-error"`;
}

interface FieldOptions {
  id: string;
  name: string;
  label: string;
  /** Extra attributes, e.g. `required maxlength="200"`. */
  attrs?: Html;
}

/** A labelled one-line input showing the typed value and its error. */
export function inputField(form: FormState, o: FieldOptions & { type?: 'text' | 'number' | 'url' }): Html {
  return html`<label for="${o.id}">${o.label}</label><input id="${o.id}" type="${o.type ?? 'text'}" name="${o.name}" value="${form.values[o.name] ?? ''}"${o.attrs ?? ''}${invalidAttrs(form, o.name, o.id)}>${errorFor(form, o.name, o.id)}`;
}

/** A labelled textarea showing the typed text and its error. */
export function textareaField(form: FormState, o: FieldOptions): Html {
  return html`<label for="${o.id}">${o.label}</label><textarea id="${o.id}" name="${o.name}"${o.attrs ?? ''}${invalidAttrs(form, o.name, o.id)}>${form.values[o.name] ?? ''}</textarea>${errorFor(form, o.name, o.id)}`;
}

/** A labelled select; the typed value (or `fallback`) is selected. */
export function selectField(form: FormState, o: FieldOptions & { options: readonly (readonly [value: string, label: string])[]; fallback?: string }): Html {
  const current = form.values[o.name] ?? o.fallback ?? '';
  return html`<label for="${o.id}">${o.label}</label><select id="${o.id}" name="${o.name}"${o.attrs ?? ''}${invalidAttrs(form, o.name, o.id)}>${o.options.map(
    ([value, label]) => html`<option value="${value}"${value === current ? html` selected` : ''}>${label}</option>`,
  )}</select>${errorFor(form, o.name, o.id)}`;
}
