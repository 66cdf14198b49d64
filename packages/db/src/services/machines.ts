import { type DbLike, prismaOf } from '../client.ts';
import { AppError, NotFoundError } from '../errors.ts';
import type { Machine, OperationalStatus } from '../generated/prisma/client.ts';
import { isUniqueViolation } from './shared.ts';

/**
 * A machine slug as Flipfix's SlugField takes it, lower case: letters, digits,
 * `-` and `_`, starting with a letter or digit, at most 100 characters.
 */
export const MACHINE_SLUG_PATTERN = /^[a-z0-9][a-z0-9_-]{0,99}$/;

export interface CreateMachineInput {
  name: string;
  shortName?: string | null | undefined;
  /** Derived from the name (by the database, as Flipfix derives it) when not given. */
  slug?: string | undefined;
  location?: string | null | undefined;
  operationalStatus?: OperationalStatus | undefined;
}

/** Fields {@link updateMachine} changes; absent ones are kept. */
export interface UpdateMachineInput {
  name?: string | undefined;
  shortName?: string | null | undefined;
  slug?: string | undefined;
  location?: string | null | undefined;
}

function assertSlug(slug: string | undefined): void {
  if (slug !== undefined && !MACHINE_SLUG_PATTERN.test(slug)) {
    throw new AppError('invalid', 'Slug must be lower-case letters, digits, "-" or "_" (up to 100 characters)', { field: 'slug' });
  }
}

/** A unique violation on machines as a `conflict` naming the field. */
function conflictOf(err: unknown): unknown {
  if (!isUniqueViolation(err)) return err;
  const target = JSON.stringify(err.meta ?? {});
  const field = target.includes('short_name') || target.includes('shortName') ? 'shortName' : target.includes('slug') ? 'slug' : 'name';
  const label = { name: 'name', shortName: 'short name', slug: 'slug' }[field];
  return new AppError('conflict', `A machine with this ${label} already exists`, { field, cause: err });
}

/** Creates a machine; a taken name, short name or slug is a `conflict` on that field. */
export async function createMachine(db: DbLike, input: CreateMachineInput): Promise<Machine> {
  assertSlug(input.slug);
  try {
    return await prismaOf(db).machine.create({
      data: {
        name: input.name,
        shortName: input.shortName ?? null,
        location: input.location ?? null,
        ...(input.slug === undefined ? {} : { slug: input.slug }),
        ...(input.operationalStatus === undefined ? {} : { operationalStatus: input.operationalStatus }),
      },
    });
  } catch (err) {
    throw conflictOf(err);
  }
}

/**
 * Changes a machine's name, short name, location or slug. A new slug changes
 * its page's address; stored record links keep working, since they name the
 * machine by id.
 */
export async function updateMachine(db: DbLike, id: number, input: UpdateMachineInput): Promise<Machine> {
  assertSlug(input.slug);
  await getMachine(db, id);
  try {
    return await prismaOf(db).machine.update({
      where: { id },
      data: {
        ...(input.name === undefined ? {} : { name: input.name }),
        ...(input.shortName === undefined ? {} : { shortName: input.shortName }),
        ...(input.location === undefined ? {} : { location: input.location }),
        ...(input.slug === undefined ? {} : { slug: input.slug }),
      },
    });
  } catch (err) {
    throw conflictOf(err);
  }
}

/** Every machine, by name. */
export function listMachines(db: DbLike): Promise<Machine[]> {
  return prismaOf(db).machine.findMany({ orderBy: [{ name: 'asc' }, { id: 'asc' }] });
}

/** One machine, or {@link NotFoundError}. */
export async function getMachine(db: DbLike, id: number): Promise<Machine> {
  const machine = await prismaOf(db).machine.findUnique({ where: { id } });
  if (machine === null) throw new NotFoundError('Machine', id);
  return machine;
}

/** The machine with this slug, or {@link NotFoundError} (without a query for what cannot be a slug). */
export async function getMachineBySlug(db: DbLike, slug: string): Promise<Machine> {
  const machine = MACHINE_SLUG_PATTERN.test(slug) ? await prismaOf(db).machine.findUnique({ where: { slug } }) : null;
  if (machine === null) throw new NotFoundError('Machine', slug.slice(0, 100));
  return machine;
}

/** Throws {@link NotFoundError} (naming `field`) unless the machine exists. */
export async function assertMachineExists(db: DbLike, id: number, field = 'machineId'): Promise<void> {
  const found = await prismaOf(db).machine.findUnique({ where: { id }, select: { id: true } });
  if (found === null) throw new NotFoundError('Machine', id, { field });
}
