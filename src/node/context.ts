import type { Config } from '../config/schema.ts';
import type { Runner } from '../engines/runner.ts';
import type { EnginePackage } from '../engines/types.ts';
import type { Pipeline } from '../evaluator/pipeline.ts';
import type { RoomId, UserId } from '../ids.ts';
import type { Logger } from '../log/logger.ts';
import type { MeshClient } from '../matrix/types.ts';
import type { Admission } from '../mesh/admission.ts';
import type { Roster } from '../mesh/roster.ts';
import type { Store } from '../store/types.ts';
import type { Models } from '../whisper/models.ts';
import type { Ledgers } from './ledgers.ts';

/** The collaborators every role of a node shares; built once in `createMeshNode`. */
export interface NodeContext {
  config: Config;
  client: MeshClient;
  store: Store;
  /** The Runner: downloads authorized engines and runs them in their runtime. */
  runtime: Runner;
  /** The engines this node runs, by name. */
  engines: Map<string, EnginePackage>;
  /** Named pipelines (`!run <name>`), by name (absent: none). */
  pipelines?: Map<string, Pipeline>;
  roster: Roster;
  admission: Admission;
  ledgers: Ledgers;
  log: Logger;
  /** The node's own id. */
  self: UserId;
  /** Aborted when the node stops. */
  signal: AbortSignal;
  /** The node's Whisper models, announced with the node (absent: none). */
  models?: Models;
}

export function isMeshRoom(ctx: NodeContext, roomId: RoomId): boolean {
  return ctx.roster.view(roomId) !== undefined;
}
