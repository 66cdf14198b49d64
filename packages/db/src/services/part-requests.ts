import { type DbLike, prismaOf } from '../client.ts';
import { NotFoundError } from '../errors.ts';
import type { PartRequestStatus, Prisma } from '../generated/prisma/client.ts';
import { assertMachineExists } from './machines.ts';
import { beforeOf, containsWord, type ListOptions, photoCreates, photosInOrder, searchOf, takeOf } from './shared.ts';
import { storeLinks } from '../links.ts';

const requestRelations = { machine: true, photos: photosInOrder } satisfies Prisma.PartRequestInclude;
const updateRelations = {
  photos: photosInOrder,
  partRequest: { include: { machine: true } },
} satisfies Prisma.PartRequestUpdateInclude;

/** A part request with its machine (if any) and photos (in order). */
export type PartRequestWithRelations = Prisma.PartRequestGetPayload<{ include: typeof requestRelations }>;
/** A part request update with its photos and its request (with the request's machine). */
export type PartRequestUpdateWithRelations = Prisma.PartRequestUpdateGetPayload<{ include: typeof updateRelations }>;

export interface CreatePartRequestInput {
  text: string;
  machineId?: number | null | undefined;
  requestedByName?: string | null | undefined;
  photoUrls?: readonly string[] | undefined;
}

/** Opens a part request (status `requested`) with its photos, in one transaction. */
export async function createPartRequest(db: DbLike, input: CreatePartRequestInput): Promise<PartRequestWithRelations> {
  const prisma = prismaOf(db);
  const machineId = input.machineId ?? null;
  if (machineId !== null) await assertMachineExists(prisma, machineId);
  const text = await storeLinks(prisma, input.text, 'text');
  const photos = photoCreates(input.photoUrls);
  return prisma.partRequest.create({
    data: {
      text,
      machineId,
      requestedByName: input.requestedByName ?? null,
      ...(photos === undefined ? {} : { photos }),
    },
    include: requestRelations,
  });
}

export interface CreatePartRequestUpdateInput {
  text: string;
  /** Sets the request's status in the same transaction. */
  newStatus?: PartRequestStatus | null | undefined;
  postedByName?: string | null | undefined;
  photoUrls?: readonly string[] | undefined;
}

/**
 * Posts an update on a part request. With `newStatus`, the request's status
 * changes in the same transaction as the update is written: both or neither.
 * (The insert trigger applies `new_status` too, so rows written outside this
 * service stay consistent; here it finds the status already set.)
 */
export async function createPartRequestUpdate(
  db: DbLike,
  partRequestId: number,
  input: CreatePartRequestUpdateInput,
): Promise<PartRequestUpdateWithRelations> {
  const newStatus = input.newStatus ?? null;
  const photos = photoCreates(input.photoUrls);
  const text = await storeLinks(db, input.text, 'text');
  return prismaOf(db).$transaction(async (tx) => {
    const request = await tx.partRequest.findUnique({ where: { id: partRequestId }, select: { status: true } });
    if (request === null) throw new NotFoundError('Part request', partRequestId);
    if (newStatus !== null && newStatus !== request.status) {
      await tx.partRequest.update({ where: { id: partRequestId }, data: { status: newStatus } });
    }
    return tx.partRequestUpdate.create({
      data: {
        partRequestId,
        text,
        newStatus,
        postedByName: input.postedByName ?? null,
        ...(photos === undefined ? {} : { photos }),
      },
      include: updateRelations,
    });
  });
}

export interface ListPartRequestsOptions extends ListOptions {
  machineId?: number | undefined;
  status?: PartRequestStatus | undefined;
  /** Words in the text, the requester's name or the machine's name, or `#id`. */
  search?: string | undefined;
}

/** Newest first. */
export function listPartRequests(
  db: DbLike,
  options: ListPartRequestsOptions = {},
): Promise<PartRequestWithRelations[]> {
  return prismaOf(db).partRequest.findMany({
    where: {
      ...beforeOf(options),
      ...(options.machineId === undefined ? {} : { machineId: options.machineId }),
      ...(options.status === undefined ? {} : { status: options.status }),
      ...searchOf(options.search, (word) => [
        { text: containsWord(word) },
        { requestedByName: containsWord(word) },
        { machine: { name: containsWord(word) } },
      ]),
    },
    orderBy: { id: 'desc' },
    take: takeOf(options),
    include: requestRelations,
  });
}

/** One part request, or {@link NotFoundError}. */
export async function getPartRequest(db: DbLike, id: number): Promise<PartRequestWithRelations> {
  const request = await prismaOf(db).partRequest.findUnique({ where: { id }, include: requestRelations });
  if (request === null) throw new NotFoundError('Part request', id);
  return request;
}

export interface ListPartRequestUpdatesOptions extends ListOptions {
  partRequestId?: number | undefined;
}

/** Newest first. */
export function listPartRequestUpdates(
  db: DbLike,
  options: ListPartRequestUpdatesOptions = {},
): Promise<PartRequestUpdateWithRelations[]> {
  return prismaOf(db).partRequestUpdate.findMany({
    where: {
      ...beforeOf(options),
      ...(options.partRequestId === undefined ? {} : { partRequestId: options.partRequestId }),
    },
    orderBy: { id: 'desc' },
    take: takeOf(options),
    include: updateRelations,
  });
}

/** One update, or {@link NotFoundError}. */
export async function getPartRequestUpdate(db: DbLike, id: number): Promise<PartRequestUpdateWithRelations> {
  const update = await prismaOf(db).partRequestUpdate.findUnique({ where: { id }, include: updateRelations });
  if (update === null) throw new NotFoundError('Part request update', id);
  return update;
}
