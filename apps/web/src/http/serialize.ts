/**
 * Records as the JSON API returns them: camelCase, photos flattened to URL
 * lists, and nothing a visitor should not see (a reporter's contact details
 * stay out of the public API and pages).
 */
import type {
  LogEntryWithRelations,
  Machine,
  PartRequestUpdateWithRelations,
  PartRequestWithRelations,
  ProblemReportWithRelations,
} from '@flipfix/db';

interface MachineLike {
  id: number;
  name: string;
  shortName: string | null;
  slug: string;
}

const machineRef = (m: MachineLike | null) => (m === null ? null : { id: m.id, name: m.name, shortName: m.shortName, slug: m.slug });
const urls = (photos: readonly { url: string }[]) => photos.map((p) => p.url);

export function machineJson(m: Machine) {
  return {
    id: m.id,
    name: m.name,
    shortName: m.shortName,
    slug: m.slug,
    location: m.location,
    operationalStatus: m.operationalStatus,
    createdAt: m.createdAt,
  };
}

export function problemReportJson(r: ProblemReportWithRelations) {
  return {
    id: r.id,
    machineId: r.machineId,
    machine: machineRef(r.machine),
    status: r.status,
    problemType: r.problemType,
    priority: r.priority,
    description: r.description,
    reporterName: r.reporterName,
    claimedByName: r.claimedByName,
    claimedAt: r.claimedAt,
    photoUrls: urls(r.photos),
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}

export function logEntryJson(e: LogEntryWithRelations) {
  return {
    id: e.id,
    machineId: e.machineId,
    machine: machineRef(e.machine),
    problemReportId: e.problemReportId,
    text: e.text,
    maintainerNames: e.maintainerNames,
    photoUrls: urls(e.photos),
    createdAt: e.createdAt,
  };
}

export function partRequestJson(p: PartRequestWithRelations) {
  return {
    id: p.id,
    machineId: p.machineId,
    machine: machineRef(p.machine),
    text: p.text,
    status: p.status,
    requestedByName: p.requestedByName,
    photoUrls: urls(p.photos),
    createdAt: p.createdAt,
    updatedAt: p.updatedAt,
  };
}

export function partRequestUpdateJson(u: PartRequestUpdateWithRelations) {
  return {
    id: u.id,
    partRequestId: u.partRequestId,
    machine: machineRef(u.partRequest.machine),
    text: u.text,
    newStatus: u.newStatus,
    requestStatus: u.partRequest.status,
    postedByName: u.postedByName,
    photoUrls: urls(u.photos),
    createdAt: u.createdAt,
  };
}
