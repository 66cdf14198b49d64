import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator } from '../src/index';

const dirs: string[] = [];
function stateFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'discord-sim-'));
  dirs.push(dir);
  return join(dir, 'state.json');
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function post(url: string, token: string, channelId: string, content: string): Promise<string> {
  const res = await fetch(`${url}/api/v10/channels/${channelId}/messages`, {
    method: 'POST',
    headers: { authorization: `Bot ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ content }),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { id: string }).id;
}

describe('state file', () => {
  it('keeps channels, messages and webhooks across a restart, and says where', async () => {
    const file = stateFile();
    const first = await startSimulator({ port: 0, stateFile: file });
    const workshop = first.createChannel({ name: 'workshop' });
    const id = await post(first.url, first.token, workshop.id, 'kept across restarts');
    const hook = first.createWebhook(first.channelId, 'Legacy');
    expect(first.snapshot().stateFile).toBe(file);
    await first.close();

    const second = await startSimulator({ port: 0, stateFile: file });
    try {
      expect(second.snapshot().channels.map((c) => c.name)).toEqual(['machine-notifications', 'workshop']);
      expect(second.messages(workshop.id).map((m) => [m.id, m.content])).toEqual([[id, 'kept across restarts']]);
      // The webhook URL pasted into the console still works.
      const res = await fetch(`${second.url}/api/webhooks/${hook.id}/${hook.token}?wait=true`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ content: 'through the old webhook' }),
      });
      expect(res.status).toBe(200);
      expect(second.messages(second.channelId).map((m) => m.content)).toEqual(['through the old webhook']);
    } finally {
      await second.close();
    }
  });

  it('starts empty from an unreadable file and without a file says nothing is kept', async () => {
    const file = stateFile();
    writeFileSync(file, '{ not json');
    const errors: unknown[] = [];
    const sim = await startSimulator({ port: 0, stateFile: file, onError: (err) => errors.push(err) });
    expect(sim.snapshot().channels).toHaveLength(1);
    expect(errors).toHaveLength(1);
    await sim.close();
    const memoryOnly = await startSimulator({ port: 0 });
    expect(memoryOnly.snapshot().stateFile).toBeNull();
    await memoryOnly.close();
  });
});
