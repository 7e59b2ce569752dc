import { createHash } from 'node:crypto';
import type { UserId } from '../ids.ts';

/**
 * This node's place among the nodes that could all send the same message: a shuffle seeded
 * by what the message is about, so a different node goes first each time. The first waits
 * one step, the next two, and so on; each stays quiet if an earlier one already spoke.
 */
export function rank(seed: string, nodes: readonly UserId[], self: UserId): number {
  const key = (n: string) => createHash('sha256').update(`${seed}\n${n}`).digest('hex');
  const order = [...new Set([...nodes, self])].sort((a, b) => (key(a) < key(b) ? -1 : 1));
  return order.indexOf(self);
}
