/** Request bodies of the domain JSON API (also used by the HTML forms). */
import { z } from '@flipfix/config';
import { MACHINE_SLUG_PATTERN } from '@flipfix/db';
import { PART_REQUEST_STATUSES, PRIORITIES, PROBLEM_REPORT_STATUSES, PROBLEM_TYPES } from '@flipfix/events';
import { IdSchema, optionalText, PhotoUrls, requiredText } from './validate';

/** Long free text: generous, since Discord posts are capped by the formatter, not here. */
export const MAX_TEXT = 20_000;
const NAME = 200;

const enumOf = <T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, { error: (issue) => (issue.input === undefined ? 'is required' : `must be one of: ${values.join(', ')}`) });

/** A machine slug (see MACHINE_SLUG_PATTERN): it is the machine's page address and its `[[machine:slug]]` link. */
const MachineSlug = z
  .string({ error: 'must be a string' })
  .trim()
  .regex(MACHINE_SLUG_PATTERN, 'must be lower-case letters, digits, "-" or "_", starting with a letter or digit (up to 100 characters)');

export const CreateMachineBody = z.strictObject({
  name: requiredText(NAME),
  shortName: optionalText(40),
  location: optionalText(NAME),
  slug: MachineSlug.optional(),
});

/** `PATCH /api/machines/:id`: any of the fields; `null` clears short name or location. */
export const PatchMachineBody = z.strictObject({
  name: requiredText(NAME).optional(),
  shortName: optionalText(40).nullable(),
  location: optionalText(NAME).nullable(),
  slug: MachineSlug.optional(),
});

export const CreateProblemReportBody = z.strictObject({
  machineId: IdSchema,
  description: requiredText(MAX_TEXT),
  problemType: enumOf(PROBLEM_TYPES).optional(),
  priority: enumOf(PRIORITIES).optional(),
  reporterName: optionalText(NAME),
  reporterContact: optionalText(NAME),
  photoUrls: PhotoUrls.optional(),
});

export const PatchProblemReportBody = z.strictObject({
  status: enumOf(PROBLEM_REPORT_STATUSES),
  actorName: optionalText(NAME),
});

export const CreateLogEntryBody = z.strictObject({
  machineId: IdSchema,
  text: requiredText(MAX_TEXT),
  problemReportId: IdSchema.optional(),
  maintainerNames: z.array(requiredText(NAME)).max(20, 'at most 20 names').optional(),
  photoUrls: PhotoUrls.optional(),
});

export const CreatePartRequestBody = z.strictObject({
  text: requiredText(MAX_TEXT),
  machineId: IdSchema.optional(),
  requestedByName: optionalText(NAME),
  photoUrls: PhotoUrls.optional(),
});

export const CreatePartRequestUpdateBody = z.strictObject({
  text: requiredText(MAX_TEXT),
  newStatus: enumOf(PART_REQUEST_STATUSES).optional(),
  postedByName: optionalText(NAME),
  photoUrls: PhotoUrls.optional(),
});

/** A JSON object body (express.json leaves `{}` when there is none). */
export function bodyOf(body: unknown): unknown {
  return body === undefined ? {} : body;
}
