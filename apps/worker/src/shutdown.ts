/**
 * One idempotent, deadline-bounded shutdown: stop taking work (relay,
 * reconciler), let active jobs finish (BullMQ `close`), close the
 * extensions, then the resources. Past the deadline the Redis connection is
 * cut so the process can exit.
 */
import type { WorkerExtension } from '@flipfix/engine';
import type { Processors } from './processors';
import type { Resources } from './resources';

/** Returns `close(deadlineMs)`: the first call shuts down, later calls wait for it. */
export function shutdownOf(resources: Resources, processors: Processors, extension: WorkerExtension): (deadlineMs?: number) => Promise<void> {
  let closing: Promise<void> | null = null;
  return (deadlineMs = 10_000) => {
    closing ??= (async () => {
      const steps = async () => {
        await processors.relay.close();
        await processors.reconciler.close();
        await Promise.all(processors.workers.map((w) => w.close()));
        await extension.close?.();
        await resources.close();
      };
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), deadlineMs);
        timer.unref();
      });
      const result = await Promise.race([steps().then(() => 'ok' as const), deadline]);
      clearTimeout(timer);
      if (result === 'timeout') {
        resources.log.warn({ deadlineMs }, 'shutdown deadline passed; forcing');
        resources.redis.disconnect();
      }
      resources.log.info('worker stopped');
    })();
    return closing;
  };
}
