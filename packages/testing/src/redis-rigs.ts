/**
 * Real Redis topologies for tests and the chaos run, from Debian's
 * `redis-server` and `redis-sentinel` on loopback ports chosen at run time
 * (no containers): a Sentinel set (primary + replica + 3 sentinels) and a
 * 6-node Cluster (3 primaries + 3 replicas). Timeouts are short so a
 * failover completes in seconds.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { freePort, type ServerProcess, scratchDir, startServer } from './processes';
import { waitFor } from './wait';

const REDIS_SERVER = '/usr/bin/redis-server';
const REDIS_SENTINEL = '/usr/bin/redis-sentinel';
const REDIS_CLI = '/usr/bin/redis-cli';

/** Whether Debian's redis-server, redis-sentinel and redis-cli are installed. */
export const hasRedisBinaries = [REDIS_SERVER, REDIS_SENTINEL, REDIS_CLI].every((p) => existsSync(p));

/** A `host:port` pair, as `@flipfix/config`'s topologies take it. */
export interface HostPort {
  host: string;
  port: number;
}

const HOST = '127.0.0.1';

/** No persistence, loopback only, in the rig's directory. */
function serverArgs(port: number, dir: string, extra: string[] = []): string[] {
  return ['--port', String(port), '--bind', HOST, '--save', '', '--appendonly', 'no', '--dir', dir, '--protected-mode', 'no', ...extra];
}

/** Asks one node, on a short-lived connection; null when it does not answer. */
async function ask(port: number, ...command: string[]): Promise<unknown> {
  const redis = new Redis({ host: HOST, port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000 });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return await redis.call(command[0]!, ...command.slice(1));
  } catch {
    return null;
  } finally {
    redis.disconnect();
  }
}

async function stopAll(processes: Iterable<ServerProcess>): Promise<void> {
  await Promise.all([...processes].map((p) => p.kill('SIGKILL')));
}

/** A primary, a replica and three sentinels watching them. */
export interface RedisSentinelSet {
  /** What `REDIS_SENTINELS` names. */
  sentinels: HostPort[];
  /** What `REDIS_SENTINEL_NAME` names. */
  name: string;
  /** Every redis-server of the set, by port (sentinels excluded). */
  servers: Map<number, ServerProcess>;
  /** The port of the current primary, as the sentinels say. */
  primaryPort(): Promise<number>;
  /** SIGKILLs the current primary and resolves once the sentinels have promoted another. */
  killPrimary(): Promise<{ killedPort: number; newPrimaryPort: number; failoverMs: number }>;
  stop(): Promise<void>;
}

/**
 * Starts a Sentinel set and resolves once every sentinel knows the replica
 * and the two other sentinels (so a failover can be agreed on).
 */
export async function startRedisSentinelSet(options: { name?: string; downAfterMs?: number } = {}): Promise<RedisSentinelSet> {
  const name = options.name ?? 'flipfix';
  const scratch = scratchDir('sentinel');
  const servers = new Map<number, ServerProcess>();
  const sentinelProcs: ServerProcess[] = [];
  try {
    const primary = await freePort();
    servers.set(primary, startServer(REDIS_SERVER, serverArgs(primary, scratch.dir), primary, scratch.dir));
    const replica = await freePort();
    servers.set(replica, startServer(REDIS_SERVER, serverArgs(replica, scratch.dir, ['--replicaof', HOST, String(primary)]), replica, scratch.dir));
    await waitFor(async () => (await ask(replica, 'INFO', 'replication'))?.toString().includes('master_link_status:up'), {
      what: 'the replica in sync',
      timeoutMs: 20_000,
    });
    const sentinels: HostPort[] = [];
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      // A sentinel rewrites its config file, so each gets its own.
      const file = path.join(scratch.dir, `sentinel-${port}.conf`);
      writeFileSync(
        file,
        [
          `port ${port}`,
          `bind ${HOST}`,
          'protected-mode no',
          `dir ${scratch.dir}`,
          `sentinel monitor ${name} ${HOST} ${primary} 2`,
          `sentinel down-after-milliseconds ${name} ${options.downAfterMs ?? 1000}`,
          `sentinel failover-timeout ${name} 5000`,
          `sentinel parallel-syncs ${name} 1`,
          '',
        ].join('\n'),
      );
      sentinelProcs.push(startServer(REDIS_SENTINEL, [file], port, scratch.dir));
      sentinels.push({ host: HOST, port });
    }
    await waitFor(
      async () => {
        for (const s of sentinels) {
          const peers = (await ask(s.port, 'SENTINEL', 'SENTINELS', name)) as unknown[] | null;
          const replicas = (await ask(s.port, 'SENTINEL', 'REPLICAS', name)) as unknown[] | null;
          if (peers?.length !== 2 || replicas?.length !== 1) return false;
        }
        return true;
      },
      { what: 'the sentinels to know each other and the replica', timeoutMs: 30_000, intervalMs: 200 },
    );

    const primaryPort = async (): Promise<number> => {
      for (const s of sentinels) {
        const answer = (await ask(s.port, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name)) as [string, string] | null;
        if (answer) return Number(answer[1]);
      }
      throw new Error('no sentinel answers');
    };
    return {
      sentinels,
      name,
      servers,
      primaryPort,
      async killPrimary() {
        const killedPort = await primaryPort();
        const started = Date.now();
        await servers.get(killedPort)?.kill('SIGKILL');
        const newPrimaryPort = await waitFor(
          async () => {
            const port = await primaryPort();
            if (port === killedPort) return undefined;
            const role = (await ask(port, 'ROLE')) as [string] | null;
            return role?.[0] === 'master' ? port : undefined;
          },
          { what: 'a new primary', timeoutMs: 30_000, intervalMs: 100 },
        );
        return { killedPort, newPrimaryPort, failoverMs: Date.now() - started };
      },
      async stop() {
        await stopAll([...sentinelProcs, ...servers.values()]);
        scratch.remove();
      },
    };
  } catch (err) {
    await stopAll([...sentinelProcs, ...servers.values()]);
    scratch.remove();
    throw err;
  }
}

/** A 6-node Redis Cluster: 3 primaries, each with one replica. */
export interface RedisClusterRig {
  /** What `REDIS_CLUSTER_NODES` names (every node). */
  nodes: HostPort[];
  servers: Map<number, ServerProcess>;
  /** The port of the primary that serves `key`'s slot now. */
  primaryFor(key: string): Promise<number>;
  /**
   * SIGKILLs the primary serving `key` and resolves once its replica has
   * taken over and the cluster says `cluster_state:ok` again.
   */
  killPrimaryFor(key: string): Promise<{ killedPort: number; newPrimaryPort: number; failoverMs: number }>;
  stop(): Promise<void>;
}

/** Starts a 6-node cluster (`redis-cli --cluster create … --cluster-replicas 1`). */
export async function startRedisCluster(options: { nodeTimeoutMs?: number } = {}): Promise<RedisClusterRig> {
  const scratch = scratchDir('cluster');
  const servers = new Map<number, ServerProcess>();
  try {
    // Each node on ports found free a moment ago: another process may take one
    // in between, and that node exits at once. It is started again on new
    // ports, so a busy machine slows the rig down but does not break it.
    const startNode = async (): Promise<HostPort> => {
      for (let attempt = 1; ; attempt++) {
        const port = await freePort();
        const busPort = await freePort();
        const args = serverArgs(port, scratch.dir, [
          '--cluster-enabled', 'yes',
          '--cluster-config-file', `nodes-${port}.conf`,
          '--cluster-node-timeout', String(options.nodeTimeoutMs ?? 1000),
          // The bus port is chosen too (default port + 10000 may be taken).
          '--cluster-port', String(busPort),
          // A replica fails over however long it was cut off from its primary.
          '--cluster-replica-validity-factor', '0',
        ]);
        const server = startServer(REDIS_SERVER, args, port, scratch.dir);
        servers.set(port, server);
        const up = await waitFor(
          async () => {
            if (server.child.exitCode !== null || server.child.signalCode !== null) return 'exited';
            return (await ask(port, 'PING')) === 'PONG' ? 'up' : null;
          },
          { what: `redis-server on port ${port} up`, timeoutMs: 60_000, intervalMs: 50 },
        );
        if (up === 'up') return { host: HOST, port };
        servers.delete(port);
        if (attempt >= 3) throw new Error(`redis-server on port ${port} exited at start:\n${server.output.join('\n')}`);
      }
    };
    const nodes: HostPort[] = [];
    for (let i = 0; i < 6; i++) nodes.push(await startNode());
    const created = spawnSync(
      REDIS_CLI,
      ['--cluster', 'create', ...nodes.map((n) => `${n.host}:${n.port}`), '--cluster-replicas', '1', '--cluster-yes'],
      { encoding: 'utf8', timeout: 60_000 },
    );
    if (created.status !== 0) throw new Error(`redis-cli --cluster create failed:\n${created.stdout}\n${created.stderr}`);
    const allOk = async () => {
      for (const [port, server] of servers) {
        if (server.child.exitCode !== null || server.child.signalCode !== null) continue;
        const info = (await ask(port, 'CLUSTER', 'INFO'))?.toString() ?? '';
        if (!info.includes('cluster_state:ok')) return false;
      }
      return true;
    };
    await waitFor(allOk, { what: 'cluster_state:ok on every node', timeoutMs: 30_000, intervalMs: 200 });
    // Every replica attached and in sync, so a failover has a replica to promote.
    await waitFor(
      async () => {
        let synced = 0;
        for (const n of nodes) {
          const info = (await ask(n.port, 'INFO', 'replication'))?.toString() ?? '';
          if (info.includes('role:slave') && info.includes('master_link_status:up')) synced++;
        }
        return synced === 3;
      },
      { what: 'three replicas in sync', timeoutMs: 30_000, intervalMs: 200 },
    );

    const primaryFor = async (key: string): Promise<number> => {
      for (const [port, server] of servers) {
        if (server.child.exitCode !== null || server.child.signalCode !== null) continue;
        const slot = Number(await ask(port, 'CLUSTER', 'KEYSLOT', key));
        const shards = (await ask(port, 'CLUSTER', 'SLOTS')) as [number, number, [string, number, string]][] | null;
        const owner = shards?.find(([from, to]) => slot >= from && slot <= to);
        if (owner) return Number(owner[2][1]);
      }
      throw new Error('no cluster node answers');
    };
    return {
      nodes,
      servers,
      primaryFor,
      async killPrimaryFor(key: string) {
        const killedPort = await primaryFor(key);
        const started = Date.now();
        await servers.get(killedPort)?.kill('SIGKILL');
        const newPrimaryPort = await waitFor(
          async () => {
            const port = await primaryFor(key).catch(() => killedPort);
            return port !== killedPort && (await allOk()) ? port : undefined;
          },
          { what: 'a replica promoted', timeoutMs: 30_000, intervalMs: 100 },
        );
        return { killedPort, newPrimaryPort, failoverMs: Date.now() - started };
      },
      async stop() {
        await stopAll(servers.values());
        scratch.remove();
      },
    };
  } catch (err) {
    await stopAll(servers.values());
    scratch.remove();
    throw err;
  }
}
