import { type DbLike, prismaOf } from '../client.ts';
import { NotFoundError } from '../errors.ts';
import type {
  Prisma,
  ProblemPriority,
  ProblemReportStatus,
  ProblemType,
} from '../generated/prisma/client.ts';
import { assertMachineExists } from './machines.ts';
import { beforeOf, containsWord, type ListOptions, photoCreates, photosInOrder, searchOf, takeOf } from './shared.ts';
import { storeLinks } from '../links.ts';

const withRelations = { machine: true, photos: photosInOrder } satisfies Prisma.ProblemReportInclude;

/** A problem report with its machine and photos (in order). */
export type ProblemReportWithRelations = Prisma.ProblemReportGetPayload<{ include: typeof withRelations }>;

export interface CreateProblemReportInput {
  machineId: number;
  description: string;
  problemType?: ProblemType | undefined;
  priority?: ProblemPriority | undefined;
  reporterName?: string | null | undefined;
  reporterContact?: string | null | undefined;
  photoUrls?: readonly string[] | undefined;
}

/**
 * Files a problem report (and its photos, in the same transaction, so the
 * worker formatting the post after commit sees them).
 */
export async function createProblemReport(
  db: DbLike,
  input: CreateProblemReportInput,
): Promise<ProblemReportWithRelations> {
  const prisma = prismaOf(db);
  await assertMachineExists(prisma, input.machineId);
  const description = await storeLinks(prisma, input.description, 'description');
  const photos = photoCreates(input.photoUrls);
  return prisma.problemReport.create({
    data: {
      machineId: input.machineId,
      description,
      ...(input.problemType === undefined ? {} : { problemType: input.problemType }),
      ...(input.priority === undefined ? {} : { priority: input.priority }),
      reporterName: input.reporterName ?? null,
      reporterContact: input.reporterContact ?? null,
      ...(photos === undefined ? {} : { photos }),
    },
    include: withRelations,
  });
}

export interface StatusChangeResult {
  /** False when the report already had that status (nothing was written). */
  changed: boolean;
  report: ProblemReportWithRelations;
  /** The "Closed problem report" / "Re-opened problem report" entry, when changed. */
  logEntryId: number | null;
}

/** The log entry text Flipfix writes for a status change. */
export const STATUS_CHANGE_TEXT: Record<ProblemReportStatus, string> = {
  closed: 'Closed problem report',
  open: 'Re-opened problem report',
};

/**
 * Closes or reopens a report. When the status really changes it also writes
 * the linked log entry (as Flipfix does), in one transaction; the trigger
 * records `problem_report_status_changed` with `actorName` as the actor.
 * Setting the status a report already has is a no-op.
 */
export async function setProblemReportStatus(
  db: DbLike,
  id: number,
  status: ProblemReportStatus,
  actorName?: string | null,
): Promise<StatusChangeResult> {
  const actor = actorName?.trim() || null;
  const result = await prismaOf(db).$transaction(async (tx) => {
    // The row lock makes two concurrent closes write one log entry, not two.
    const rows = await tx.$queryRaw<{ status: ProblemReportStatus }[]>`
      SELECT status::text AS status FROM problem_reports WHERE id = ${id} FOR UPDATE`;
    const current = rows[0];
    if (current === undefined) throw new NotFoundError('Problem report', id);
    if (current.status === status) return { changed: false, logEntryId: null };
    await tx.$executeRaw`SELECT set_config('flipfix.actor_name', ${actor ?? ''}, true)`;
    const report = await tx.problemReport.update({ where: { id }, data: { status }, select: { machineId: true } });
    const entry = await tx.logEntry.create({
      data: {
        machineId: report.machineId,
        problemReportId: id,
        text: STATUS_CHANGE_TEXT[status],
        maintainerNames: actor === null ? [] : [actor],
      },
      select: { id: true },
    });
    return { changed: true, logEntryId: entry.id };
  });
  return { ...result, report: await getProblemReport(db, id) };
}

export interface ClaimResult {
  /** False when the report was already claimed (by anyone). */
  changed: boolean;
  report: ProblemReportWithRelations;
}

/** Claims an unclaimed report for `name`; a claimed report keeps its first claimant. */
export async function claimProblemReport(db: DbLike, id: number, name: string): Promise<ClaimResult> {
  const prisma = prismaOf(db);
  const { count } = await prisma.problemReport.updateMany({
    where: { id, claimedByName: null },
    data: { claimedByName: name, claimedAt: new Date() },
  });
  return { changed: count === 1, report: await getProblemReport(prisma, id) };
}

export interface ListProblemReportsOptions extends ListOptions {
  machineId?: number | undefined;
  status?: ProblemReportStatus | undefined;
  /** Words in the description, the reporter's name or the machine's name, or `#id`. */
  search?: string | undefined;
}

/** Newest first. */
export function listProblemReports(
  db: DbLike,
  options: ListProblemReportsOptions = {},
): Promise<ProblemReportWithRelations[]> {
  return prismaOf(db).problemReport.findMany({
    where: {
      ...beforeOf(options),
      ...(options.machineId === undefined ? {} : { machineId: options.machineId }),
      ...(options.status === undefined ? {} : { status: options.status }),
      ...searchOf(options.search, (word) => [
        { description: containsWord(word) },
        { reporterName: containsWord(word) },
        { machine: { name: containsWord(word) } },
      ]),
    },
    orderBy: { id: 'desc' },
    take: takeOf(options),
    include: withRelations,
  });
}

/** One report, or {@link NotFoundError}. */
export async function getProblemReport(db: DbLike, id: number): Promise<ProblemReportWithRelations> {
  const report = await prismaOf(db).problemReport.findUnique({ where: { id }, include: withRelations });
  if (report === null) throw new NotFoundError('Problem report', id);
  return report;
}
