/** The Verifier in chat: `!trust`, and `replicas=k` on a `!run`. */
import { BadInputError } from '../errors/index.ts';
import type { NodeTrust } from '../verifier/types.ts';
import type { MeshRoom } from './mesh-room.ts';

/** `replicas=k` taken out of a `!run`'s parameters (the engine never sees it). */
export function replicasOf(
  params: Record<string, string>,
  max: number,
): { replicas?: number; params: Record<string, string> } {
  const { replicas, ...rest } = params;
  if (replicas === undefined) return { params: rest };
  const k = Number(replicas);
  if (!/^[0-9]{1,2}$/.test(replicas) || k < 1 || k > max) {
    throw new BadInputError(`replicas must be a whole number from 1 to ${max}, got ${replicas}`);
  }
  return { replicas: k, params: rest };
}

function line(t: NodeTrust, warmup: number, trusted: boolean): string {
  const record = `${t.agreed} agreed, ${t.disagreed} rejected, ${t.checked} checked`;
  if (t.quarantined) {
    return `${t.node}: QUARANTINED (no new work): ${t.reason ?? 'a wrong result'}; ${record}`;
  }
  const state = trusted ? 'trusted (spot-checked)' : `in warm-up (${t.streak} of ${warmup})`;
  return `${t.node}: ${state}; ${record}`;
}

/** Each node of the room with its record; nodes never checked are in warm-up. */
export function trustText(room: MeshRoom): string {
  const known = new Map(room.trust.all().map((t) => [t.node, t]));
  const nodes = new Set([...room.liveNodes(), ...known.keys()]);
  if (nodes.size === 0) return 'no nodes in this mesh yet';
  const warmup = room.trustWarmup;
  const lines = [...nodes].sort().map((n) => {
    const t = room.trust.get(n);
    return line(t, warmup, room.trust.isTrusted(n));
  });
  return ['trust (the Verifier):', ...lines].join('\n');
}
