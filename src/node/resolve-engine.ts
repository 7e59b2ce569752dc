import { type Needs, whyNoNode } from '../coordinator/match.ts';
import type { EnginePackage } from '../engines/types.ts';
import { BadInputError } from '../errors/index.ts';
import type { RuntimeKind } from '../protocol/engines.ts';
import type { NodeState } from '../protocol/events.ts';
import type { NodeContext } from './context.ts';

/**
 * The engine CID a task names: this node's own package when a live node offers it, else the
 * first one offered. Throws BadInputError saying why no live node could run it.
 */
export function resolveEngine(
  ctx: NodeContext,
  name: string,
  states: readonly NodeState[],
): { cid: string; needs: Needs } {
  const own = ctx.engines.get(name);
  const offered = states.flatMap((s) => s.engines.filter((e) => e.name === name));
  const cid = own && offered.some((e) => e.cid === own.cid) ? own.cid : offered[0]?.cid;
  const needs: Needs = { engine: name, engineCid: cid };
  if (own && own.cid === cid) needs.memoryMb = own.manifest.limits.memoryMb;
  const why = whyNoNode(needs, [...states]);
  if (why || !cid) throw new BadInputError(why ?? `no node runs ${name}`);
  return { cid, needs };
}

/**
 * The runtime of the engine package a task names: this node's own package when it is that
 * one, else what a node offering it says; undefined when nobody in view knows it.
 */
export function engineRuntime(
  engine: { name: string; cid: { toString(): string } },
  own: ReadonlyMap<string, EnginePackage>,
  states: readonly NodeState[],
): RuntimeKind | undefined {
  const cid = engine.cid.toString();
  const mine = own.get(engine.name);
  if (mine?.cid === cid) return mine.manifest.runtime;
  for (const state of states) {
    const offer = state.engines.find((e) => e.cid === cid && e.runtime !== undefined);
    if (offer) return offer.runtime;
  }
  return undefined;
}
