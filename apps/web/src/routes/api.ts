/**
 * The product's JSON API (DESIGN.md "JSON API"): machines, problem reports,
 * log entries, part requests and their updates. Writes go through the domain
 * services, so the outbox rows come from the same transactions.
 */
import { Router } from 'express';
import {
  createLogEntry,
  createMachine,
  createPartRequest,
  createPartRequestUpdate,
  createProblemReport,
  type Db,
  getLogEntry,
  getMachine,
  getPartRequest,
  getPartRequestUpdate,
  getProblemReport,
  listLogEntries,
  listMachines,
  listPartRequests,
  listPartRequestUpdates,
  listProblemReports,
  setProblemReportStatus,
  updateMachine,
} from '@flipfix/db';
import {
  bodyOf,
  CreateLogEntryBody,
  CreateMachineBody,
  CreatePartRequestBody,
  CreatePartRequestUpdateBody,
  CreateProblemReportBody,
  PatchMachineBody,
  PatchProblemReportBody,
} from '../http/schemas';
import { logEntryJson, machineJson, partRequestJson, partRequestUpdateJson, problemReportJson } from '../http/serialize';
import { ListQuery, parseId } from '../http/validate';

/** Routes mounted at `/api`. */
export function apiRouter(db: Db): Router {
  const r = Router();

  r.post('/machines', async (req, res) => {
    const body = CreateMachineBody.parse(bodyOf(req.body));
    const machine = await createMachine(db, body);
    res.status(201).location(`/api/machines/${machine.id}`).json(machineJson(machine));
  });
  r.get('/machines', async (_req, res) => {
    res.json({ items: (await listMachines(db)).map(machineJson) });
  });
  r.get('/machines/:id', async (req, res) => {
    res.json(machineJson(await getMachine(db, parseId(req.params.id, 'Machine'))));
  });
  r.patch('/machines/:id', async (req, res) => {
    const id = parseId(req.params.id, 'Machine');
    const body = PatchMachineBody.parse(bodyOf(req.body));
    res.json(machineJson(await updateMachine(db, id, body)));
  });

  r.post('/problem-reports', async (req, res) => {
    const body = CreateProblemReportBody.parse(bodyOf(req.body));
    const report = await createProblemReport(db, body);
    res.status(201).location(`/api/problem-reports/${report.id}`).json(problemReportJson(report));
  });
  r.get('/problem-reports', async (req, res) => {
    const q = ListQuery.parse(req.query);
    res.json({ items: (await listProblemReports(db, q)).map(problemReportJson) });
  });
  r.get('/problem-reports/:id', async (req, res) => {
    res.json(problemReportJson(await getProblemReport(db, parseId(req.params.id, 'Problem report'))));
  });
  r.patch('/problem-reports/:id', async (req, res) => {
    const id = parseId(req.params.id, 'Problem report');
    const body = PatchProblemReportBody.parse(bodyOf(req.body));
    const result = await setProblemReportStatus(db, id, body.status, body.actorName ?? null);
    res.json({ ...problemReportJson(result.report), changed: result.changed, logEntryId: result.logEntryId });
  });

  r.post('/log-entries', async (req, res) => {
    const body = CreateLogEntryBody.parse(bodyOf(req.body));
    const entry = await createLogEntry(db, body);
    res.status(201).location(`/api/log-entries/${entry.id}`).json(logEntryJson(entry));
  });
  r.get('/log-entries', async (req, res) => {
    const q = ListQuery.parse(req.query);
    res.json({ items: (await listLogEntries(db, q)).map(logEntryJson) });
  });
  r.get('/log-entries/:id', async (req, res) => {
    res.json(logEntryJson(await getLogEntry(db, parseId(req.params.id, 'Log entry'))));
  });

  r.post('/part-requests', async (req, res) => {
    const body = CreatePartRequestBody.parse(bodyOf(req.body));
    const request = await createPartRequest(db, body);
    res.status(201).location(`/api/part-requests/${request.id}`).json(partRequestJson(request));
  });
  r.get('/part-requests', async (req, res) => {
    const q = ListQuery.parse(req.query);
    res.json({ items: (await listPartRequests(db, q)).map(partRequestJson) });
  });
  r.get('/part-requests/:id', async (req, res) => {
    res.json(partRequestJson(await getPartRequest(db, parseId(req.params.id, 'Part request'))));
  });
  r.post('/part-requests/:id/updates', async (req, res) => {
    const id = parseId(req.params.id, 'Part request');
    const body = CreatePartRequestUpdateBody.parse(bodyOf(req.body));
    const update = await createPartRequestUpdate(db, id, body);
    res.status(201).location(`/api/part-request-updates/${update.id}`).json(partRequestUpdateJson(update));
  });
  r.get('/part-requests/:id/updates', async (req, res) => {
    const id = parseId(req.params.id, 'Part request');
    await getPartRequest(db, id);
    const q = ListQuery.parse(req.query);
    res.json({ items: (await listPartRequestUpdates(db, { ...q, partRequestId: id })).map(partRequestUpdateJson) });
  });
  r.get('/part-request-updates', async (req, res) => {
    const q = ListQuery.parse(req.query);
    res.json({ items: (await listPartRequestUpdates(db, q)).map(partRequestUpdateJson) });
  });
  r.get('/part-request-updates/:id', async (req, res) => {
    res.json(partRequestUpdateJson(await getPartRequestUpdate(db, parseId(req.params.id, 'Part request update'))));
  });

  return r;
}
