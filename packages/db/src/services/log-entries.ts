import { type DbLike, prismaOf } from '../client.ts';
import { AppError, NotFoundError } from '../errors.ts';
import type { Prisma } from '../generated/prisma/client.ts';
import { assertMachineExists } from './machines.ts';
import { beforeOf, containsWord, type ListOptions, photoCreates, photosInOrder, searchOf, takeOf } from './shared.ts';
import { storeLinks } from '../links.ts';

const withRelations = {
  machine: true,
  photos: photosInOrder,
  problemReport: { select: { id: true, description: true, status: true } },
} satisfies Prisma.LogEntryInclude;

/** A log entry with its machine, photos (in order) and linked problem report. */
export type LogEntryWithRelations = Prisma.LogEntryGetPayload<{ include: typeof withRelations }>;

export interface CreateLogEntryInput {
  machineId: number;
  text: string;
  /** Must be a report on the same machine. */
  problemReportId?: number | null | undefined;
  maintainerNames?: readonly string[] | undefined;
  photoUrls?: readonly string[] | undefined;
}

/** Writes a log entry (and its photos) in one transaction. */
export async function createLogEntry(db: DbLike, input: CreateLogEntryInput): Promise<LogEntryWithRelations> {
  const prisma = prismaOf(db);
  await assertMachineExists(prisma, input.machineId);
  const problemReportId = input.problemReportId ?? null;
  if (problemReportId !== null) {
    const report = await prisma.problemReport.findUnique({
      where: { id: problemReportId },
      select: { machineId: true },
    });
    if (report === null) throw new NotFoundError('Problem report', problemReportId, { field: 'problemReportId' });
    if (report.machineId !== input.machineId) {
      throw new AppError('invalid', `Problem report ${problemReportId} is about another machine`, {
        field: 'problemReportId',
      });
    }
  }
  const text = await storeLinks(prisma, input.text, 'text');
  const photos = photoCreates(input.photoUrls);
  return prisma.logEntry.create({
    data: {
      machineId: input.machineId,
      problemReportId,
      text,
      maintainerNames: (input.maintainerNames ?? []).map((n) => n.trim()).filter((n) => n !== ''),
      ...(photos === undefined ? {} : { photos }),
    },
    include: withRelations,
  });
}

export interface ListLogEntriesOptions extends ListOptions {
  machineId?: number | undefined;
  problemReportId?: number | undefined;
  /** Words in the text or the machine's name, a maintainer's exact name, or `#id`. */
  search?: string | undefined;
}

/** Newest first. */
export function listLogEntries(db: DbLike, options: ListLogEntriesOptions = {}): Promise<LogEntryWithRelations[]> {
  return prismaOf(db).logEntry.findMany({
    where: {
      ...beforeOf(options),
      ...(options.machineId === undefined ? {} : { machineId: options.machineId }),
      ...(options.problemReportId === undefined ? {} : { problemReportId: options.problemReportId }),
      ...searchOf(options.search, (word) => [
        { text: containsWord(word) },
        { maintainerNames: { has: word } },
        { machine: { name: containsWord(word) } },
      ]),
    },
    orderBy: { id: 'desc' },
    take: takeOf(options),
    include: withRelations,
  });
}

/** One log entry, or {@link NotFoundError}. */
export async function getLogEntry(db: DbLike, id: number): Promise<LogEntryWithRelations> {
  const entry = await prismaOf(db).logEntry.findUnique({ where: { id }, include: withRelations });
  if (entry === null) throw new NotFoundError('Log entry', id);
  return entry;
}
