import { Prisma } from '../generated/prisma/client.ts';

/** Newest-first list options shared by every list function. */
export interface ListOptions {
  /** At most this many rows (default 50, capped at 500). */
  limit?: number | undefined;
  /** Only rows with an id below this one (keyset paging: pass the last id of the previous page). */
  beforeId?: number | undefined;
}

/**
 * Words to look for (case-insensitive) in a list's text columns; `#12` or
 * `12` also finds the record with that id.
 */
export function searchOf<W>(search: string | undefined, textWhere: (word: string) => W[]): { OR?: (W | { id: number })[] } {
  const word = search?.trim() ?? '';
  if (word === '') return {};
  const id = /^#?(\d{1,9})$/.exec(word)?.[1];
  return { OR: [...textWhere(word), ...(id === undefined ? [] : [{ id: Number(id) }])] };
}

/** A case-insensitive substring match, for {@link searchOf}. */
export function containsWord(word: string): { contains: string; mode: 'insensitive' } {
  return { contains: word, mode: 'insensitive' };
}

export const DEFAULT_LIST_LIMIT = 50;
export const MAX_LIST_LIMIT = 500;

export function takeOf(options: ListOptions): number {
  const limit = options.limit ?? DEFAULT_LIST_LIMIT;
  return Math.max(1, Math.min(MAX_LIST_LIMIT, Math.trunc(limit)));
}

export function beforeOf(options: ListOptions): { id?: { lt: number } } {
  return options.beforeId === undefined ? {} : { id: { lt: options.beforeId } };
}

/** Photos in display order. */
export const photosInOrder = { orderBy: [{ position: 'asc' }, { id: 'asc' }] } satisfies Prisma.PhotoFindManyArgs;

/** Nested create input for photo URLs, positions following the given order. */
export function photoCreates(photoUrls: readonly string[] | undefined): { create: { url: string; position: number }[] } | undefined {
  if (photoUrls === undefined || photoUrls.length === 0) return undefined;
  return { create: photoUrls.map((url, position) => ({ url, position })) };
}

/** True for Prisma's "unique constraint failed" error. */
export function isUniqueViolation(err: unknown): err is Prisma.PrismaClientKnownRequestError {
  return err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002';
}
