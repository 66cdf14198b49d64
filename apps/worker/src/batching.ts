/**
 * Flood batching. When a channel has a backlog that its rate limit cannot
 * drain promptly (the delivery had to wait for a slot), the delivery that gets
 * the next slot becomes a batch leader: it claims the oldest pending posts for
 * the same channel and sends them as one message of up to 10 embeds and 6000
 * characters, in event order. The claim is written to the ledger (batch_id =
 * the leader's id) before anything is sent, so a retry after a crash resends
 * exactly the same batch under the same nonce, and the other deliveries' own
 * jobs find they are taken and do nothing.
 */
import type { RESTPostAPIChannelMessageJSONBody } from 'discord-api-types/v10';
import type { PrismaClient } from '@flipfix/db';
import { packEmbeds } from '@flipfix/discord';

/** How many pending posts a leader looks at (each is at least one embed). */
export const BATCH_CLAIM_LIMIT = 10;

/**
 * Claims the leader and up to `limit - 1` other pending posts of the same
 * ledger channel into the leader's batch, oldest first, atomically: a row is
 * in at most one batch, so a delivery whose own job runs while another
 * leader takes it is never sent twice. Returns the batch's members in event
 * order; without the leader when another batch already holds it.
 */
export async function claimBatch(prisma: PrismaClient, leaderId: string, targetKey: string, limit = BATCH_CLAIM_LIMIT): Promise<string[]> {
  const claimedLeader = await prisma.$transaction(async (tx) => {
    // The leader first, waiting for its row lock: if another leader holds it,
    // this sees that leader's batch_id once it commits and claims nothing. A
    // leader claims once: a second run of the same job (BullMQ may run a job
    // again when its lock lapses) finds batch_id set and backs off, and a
    // retry after a crash resends the recorded batch instead (batchMembers).
    const leader = await tx.$queryRaw<{ id: string }[]>`
      UPDATE deliveries SET batch_id = ${leaderId}::uuid, status = 'sending', updated_at = now()
       WHERE id = ${leaderId}::uuid AND status IN ('pending', 'sending') AND batch_id IS NULL
      RETURNING id`;
    if (leader.length === 0) return false;
    if (limit > 1) {
      await tx.$executeRaw`
        UPDATE deliveries SET batch_id = ${leaderId}::uuid, status = 'sending', updated_at = now()
         WHERE id IN (
           SELECT d.id FROM deliveries d JOIN outbox_events e ON e.id = d.event_id
            WHERE d.target = 'bot' AND d.action = 'post' AND d.target_key = ${targetKey}
              AND d.status = 'pending' AND d.batch_id IS NULL AND d.id <> ${leaderId}::uuid
            ORDER BY e.seq
            LIMIT ${limit - 1}
            FOR UPDATE OF d SKIP LOCKED)`;
    }
    return true;
  });
  return claimedLeader ? batchMembers(prisma, leaderId) : [];
}

/**
 * The common case, a post on its own: claims the row for this job (the same
 * once-only rule as a leader) and counts the attempt, in one statement.
 */
export async function claimSingle(prisma: PrismaClient, id: string): Promise<boolean> {
  const n = await prisma.$executeRaw`
    UPDATE deliveries SET batch_id = ${id}::uuid, status = 'sending', attempts = attempts + 1,
           first_attempt_at = coalesce(first_attempt_at, now()), updated_at = now()
     WHERE id = ${id}::uuid AND status IN ('pending', 'sending') AND batch_id IS NULL`;
  return n === 1;
}

/** The open members of a leader's batch, in event order. */
export async function batchMembers(prisma: PrismaClient, leaderId: string): Promise<string[]> {
  const rows = await prisma.delivery.findMany({
    where: { batchId: leaderId, status: { in: ['pending', 'sending'] } },
    select: { id: true, event: { select: { seq: true } } },
  });
  rows.sort((a, b) => (a.event.seq < b.event.seq ? -1 : a.event.seq > b.event.seq ? 1 : 0));
  return rows.map((r) => r.id);
}

/** Takes members out of a batch again (they did not fit in the leader's message). */
export async function releaseFromBatch(prisma: PrismaClient, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await prisma.delivery.updateMany({ where: { id: { in: [...ids] } }, data: { batchId: null, status: 'pending' } });
}

export interface PackedBatch {
  body: RESTPostAPIChannelMessageJSONBody;
  /** Member ids in the message, with the index of each one's first embed. */
  included: { id: string; embedIndex: number }[];
  /** Members that did not fit in the leader's message. */
  excluded: string[];
}

/**
 * Packs formatted posts (in event order) and keeps the message that holds
 * the leader; the others go back to the queue.
 */
export function packForLeader(leaderId: string, posts: readonly { id: string; body: RESTPostAPIChannelMessageJSONBody }[]): PackedBatch {
  const packed = packEmbeds(posts.map((p) => p.body));
  const leaderIndex = posts.findIndex((p) => p.id === leaderId);
  const messageIndex = packed.positions[leaderIndex]?.messageIndex ?? 0;
  const message = packed.messages[messageIndex]!;
  const included = message.sources.map((i) => ({ id: posts[i]!.id, embedIndex: packed.positions[i]!.embedIndex }));
  const inMessage = new Set(message.sources);
  const excluded = posts.filter((_, i) => !inMessage.has(i)).map((p) => p.id);
  // A batch of one is sent as the post itself, with its buttons.
  const body = included.length === 1 ? posts[message.sources[0]!]!.body : message.body;
  return { body, included, excluded };
}
