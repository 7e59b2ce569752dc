/** The Whisper models the mesh's nodes announce in their `org.meshbot.node` state. */
import type { Roster } from '../mesh/roster.ts';
import type { ModelInfo } from './models.ts';

/** Every announced model that names its CID, once per CID, across the node's rooms. */
export function announcedModels(roster: Roster): ModelInfo[] {
  const seen = new Map<string, ModelInfo>();
  for (const room of roster.rooms()) {
    for (const state of roster.view(room)?.nodes.values() ?? []) {
      for (const m of state.models ?? []) if (m.cid && !seen.has(m.cid)) seen.set(m.cid, m);
    }
  }
  return [...seen.values()];
}
