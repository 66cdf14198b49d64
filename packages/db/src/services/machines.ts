import { type DbLike, prismaOf } from '../client.ts';
import { AppError, NotFoundError } from '../errors.ts';
import type { Machine, OperationalStatus } from '../generated/prisma/client.ts';
import { isUniqueViolation } from './shared.ts';

export interface CreateMachineInput {
  name: string;
  shortName?: string | null | undefined;
  location?: string | null | undefined;
  operationalStatus?: OperationalStatus | undefined;
}

/** Creates a machine; a taken name or short name is a `conflict` on that field. */
export async function createMachine(db: DbLike, input: CreateMachineInput): Promise<Machine> {
  try {
    return await prismaOf(db).machine.create({
      data: {
        name: input.name,
        shortName: input.shortName ?? null,
        location: input.location ?? null,
        ...(input.operationalStatus === undefined ? {} : { operationalStatus: input.operationalStatus }),
      },
    });
  } catch (err) {
    if (isUniqueViolation(err)) {
      const target = JSON.stringify(err.meta ?? {});
      const field = target.includes('short_name') || target.includes('shortName') ? 'shortName' : 'name';
      throw new AppError('conflict', `A machine with this ${field === 'name' ? 'name' : 'short name'} already exists`, {
        field,
        cause: err,
      });
    }
    throw err;
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

/** Throws {@link NotFoundError} (naming `field`) unless the machine exists. */
export async function assertMachineExists(db: DbLike, id: number, field = 'machineId'): Promise<void> {
  const found = await prismaOf(db).machine.findUnique({ where: { id }, select: { id: true } });
  if (found === null) throw new NotFoundError('Machine', id, { field });
}
