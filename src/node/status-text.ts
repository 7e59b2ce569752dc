import { bookLoad } from '../coordinator/book-views.ts';
import type { TaskRecord } from '../coordinator/task-record.ts';
import { reasons } from '../coordinator/task-record.ts';
import { truncate } from '../engines/errors.ts';
import type { NodeContext } from './context.ts';
import type { MeshRoom } from './mesh-room.ts';

const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** `!status`: a task's state, attempts, node and timings. */
export function statusText(rec: TaskRecord, now: number): string {
  const lines = [`task ${rec.id}: ${rec.state}`, `engine ${rec.engine}, asked by ${rec.submitter}`];
  lines.push(`attempts: ${rec.attempt}${rec.worker ? `, node ${rec.worker}` : ''}`);
  const waited = (rec.assignedAt ?? rec.finishedAt ?? now) - rec.acceptedAt;
  lines.push(`accepted ${secs(now - rec.acceptedAt)} ago; waited ${secs(Math.max(0, waited))}`);
  if (rec.assignedAt && rec.finishedAt) lines.push(`ran ${secs(rec.finishedAt - rec.assignedAt)}`);
  if (rec.result) lines.push(`result: ${rec.result}`);
  if (rec.failures.length > 0) lines.push(`failures: ${reasons(rec)}`);
  return lines.join('\n');
}

/** Engines listed per node in `!mesh`; an announcement may offer up to 500. */
const MAX_ENGINES_SHOWN = 20;

/** `!mesh`: the nodes, the coordinator, load and the queue. */
export function meshText(ctx: NodeContext, room: MeshRoom): string {
  const view = ctx.roster.view(room.id);
  const live = new Set(room.liveNodes());
  const { perWorker } = bookLoad(room.book);
  const lease = room.election.clock.current;
  const lines = [
    `coordinator: ${lease ? `${lease.holder} (term ${lease.term})` : 'none yet'}`,
    'nodes:',
  ];
  // Only the mesh's nodes: any member may announce itself, and its announcement is its text.
  const nodes = [...(view?.nodes ?? [])].filter(([id]) => ctx.admission.isNode(view, id));
  for (const [id, s] of nodes.sort(([a], [b]) => (a < b ? -1 : 1))) {
    const shown = s.engines.slice(0, MAX_ENGINES_SHOWN).map((e) => truncate(e.name, 40));
    if (s.engines.length > MAX_ENGINES_SHOWN) shown.push(`… (${s.engines.length} in all)`);
    const state = live.has(id) ? 'online' : 'not heard from';
    lines.push(
      `  ${id} — ${state}; ${perWorker.get(id) ?? 0}/${s.capacity} busy; ${s.cores} cores ` +
        `${truncate(s.arch, 20)}, ${s.memoryMb} MB${s.gpu ? ', GPU' : ''}; ` +
        `engines: ${shown.join(', ') || 'none'}`,
    );
  }
  const count = (state: TaskRecord['state']) => room.book.all().filter((r) => r.state === state);
  lines.push(
    `queue: ${count('queued').length} waiting, ${count('assigned').length} running, ` +
      `${count('done').length} done, ${count('failed').length} failed (recent)`,
  );
  return lines.join('\n');
}
