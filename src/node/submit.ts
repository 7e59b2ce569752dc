import type { CID } from 'multiformats/cid';
import type { Command } from '../commands/parse.ts';
import { chooseWorker, TERM } from '../coordinator/choose.ts';
import { BadInputError, MeshError } from '../errors/index.ts';
import type { RoomId, UserId } from '../ids.ts';
import type { RoomEvent } from '../matrix/types.ts';
import { liveNodes } from '../mesh/roster.ts';
import { EVENT } from '../protocol/events.ts';
import { putTask, type Task } from '../queue/task.ts';
import { cidFromString } from '../store/index.ts';
import type { NodeContext } from './context.ts';

/** Emoji reactions that show a request's state. */
export const ACK = { accepted: '👀', done: '✅', failed: '❌' } as const;

/**
 * `!run`: checks the sender and the arguments, acknowledges, enqueues the task and assigns it.
 * Returns the task's CID, or null when the request was answered with an error instead.
 */
export async function submitRun(
  ctx: NodeContext,
  roomId: RoomId,
  event: RoomEvent,
  cmd: Extract<Command, { name: 'run' }>,
  outstanding: Map<string, string>,
): Promise<CID | null> {
  const view = ctx.roster.view(roomId);
  if (!ctx.admission.maySubmit(view, event.sender)) {
    throw new MeshError('NOT_ADMITTED', `${event.sender} may not submit work`, {
      userMessage: `${event.sender} is not admitted to run work in this mesh (ask a node's owner, or a room moderator)`,
    });
  }
  const input = cidFromString(cmd.cid);
  const nodes = liveNodes(
    view ?? { members: new Set(), nodes: new Map(), powerLevels: new Map(), powerDefault: 0 },
  );
  const able = nodes.flatMap((id) => {
    const e = view?.nodes.get(id)?.engines.find((x) => x.name === cmd.engine);
    return e ? [{ id, cid: e.cid }] : [];
  });
  if (able.length === 0) {
    const known = [
      ...new Set(nodes.flatMap((id) => view?.nodes.get(id)?.engines.map((e) => e.name) ?? [])),
    ].sort();
    throw new BadInputError(`unknown engine ${cmd.engine}`, {
      userMessage: `no node in this mesh runs the engine "${cmd.engine}"; engines here: ${known.join(', ') || 'none'}`,
    });
  }
  await ctx.client.react(roomId, event.event_id, ACK.accepted);
  const engineCid = cidFromString((able[0] as { cid: string }).cid);
  const task: Task = {
    type: 'task',
    engine: { name: cmd.engine, cid: engineCid },
    input,
    params: cmd.params,
    submitter: event.sender,
    room: roomId,
    request: event.event_id,
  };
  const cid = await putTask(ctx.store, task);
  const bytes = await ctx.store.getBlock(cid, { offline: true });
  const ledger = ctx.ledgers.get(roomId);
  await ledger.enqueue(cid);
  const loads = able
    .filter((a) => a.cid === engineCid.toString())
    .map((a) => ({ id: a.id, engines: [cmd.engine], load: countLoad(outstanding, a.id) }));
  const worker = chooseWorker(loads, cmd.engine) as UserId;
  const attempt = (await ledger.status(cid)).attempts + 1;
  await ledger.assign(cid, { worker, term: TERM, attempt });
  outstanding.set(cid.toString(), worker);
  const assignment = {
    task: cid.toString(),
    worker,
    attempt,
    block: Buffer.from(bytes).toString('base64'),
  };
  await ctx.client.send(
    roomId,
    EVENT.assign,
    { term: TERM, assignments: [assignment] },
    ctx.signal,
  );
  return cid;
}

function countLoad(outstanding: Map<string, string>, worker: string): number {
  let n = 0;
  for (const w of outstanding.values()) if (w === worker) n++;
  return n;
}
