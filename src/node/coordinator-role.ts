import type { CID } from 'multiformats/cid';
import { helpText } from '../commands/commands.ts';
import { type Command, parseCommand } from '../commands/parse.ts';
import { chooseCoordinator } from '../coordinator/choose.ts';
import { describeForChat } from '../errors/index.ts';
import type { RoomId } from '../ids.ts';
import type { RoomEvent } from '../matrix/types.ts';
import { liveNodes } from '../mesh/roster.ts';
import { CompletionHandler } from './completion-handler.ts';
import type { NodeContext } from './context.ts';
import { submitRun } from './submit.ts';

/**
 * The coordinator side: answers commands, turns `!run` into a task in the queue, assigns it
 * to a worker, and replies to the person when the completion arrives. Only the room's
 * coordinator acts, so each command gets one answer.
 */
export class CoordinatorRole {
  readonly #ctx: NodeContext;
  readonly #completions: CompletionHandler;
  /** Tasks assigned and not yet completed, per worker (the load used for matching). */
  readonly outstanding = new Map<string, string>();

  constructor(ctx: NodeContext) {
    this.#ctx = ctx;
    this.#completions = new CompletionHandler(ctx, this.outstanding);
  }

  isCoordinator(roomId: RoomId): boolean {
    const view = this.#ctx.roster.view(roomId);
    return !!view && chooseCoordinator(liveNodes(view)) === this.#ctx.self;
  }

  async onMessage(roomId: RoomId, event: RoomEvent): Promise<void> {
    if (event.sender === this.#ctx.self || typeof event.content.body !== 'string') return;
    if (event.content['m.new_content'] !== undefined) return; // an edit never runs anything again
    const parsed = parseCommand(event.content.body);
    if (parsed.kind === 'none' || !this.isCoordinator(roomId)) return;
    if (parsed.kind === 'usage') {
      await this.#ctx.client.reply(roomId, event, parsed.message);
      return;
    }
    try {
      await this.#dispatch(roomId, event, parsed.command);
    } catch (err) {
      this.#ctx.log.warn('command failed', { roomId, request: event.event_id, err });
      await this.#ctx.client.reply(roomId, event, describeForChat(err));
    }
  }

  async onComplete(roomId: RoomId, event: RoomEvent): Promise<void> {
    await this.#completions.onEvent(roomId, event);
  }

  async #dispatch(roomId: RoomId, event: RoomEvent, command: Command): Promise<void> {
    if (command.name === 'help') {
      await this.#ctx.client.reply(roomId, event, helpText(this.#meshEngines(roomId)));
      return;
    }
    const task: CID | null = await submitRun(this.#ctx, roomId, event, command, this.outstanding);
    if (task) this.#ctx.log.info('task accepted', { roomId, task: task.toString() });
  }

  #meshEngines(roomId: RoomId): { name: string; description: string }[] {
    const names = new Set<string>();
    for (const node of this.#ctx.roster.view(roomId)?.nodes.values() ?? []) {
      for (const e of node.engines) names.add(e.name);
    }
    return [...names].sort().map((name) => ({
      name,
      description: this.#ctx.engines.get(name)?.manifest.description ?? '',
    }));
  }
}
