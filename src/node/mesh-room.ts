import { join } from 'node:path';
import { BookFile } from '../coordinator/book-file.ts';
import { Election } from '../coordinator/election.ts';
import { TaskBook } from '../coordinator/task-book.ts';
import type { RoomId, UserId } from '../ids.ts';
import type { RoomEvent } from '../matrix/types.ts';
import { liveNodes } from '../mesh/roster.ts';
import {
  type Lease,
  leaseSchema,
  MESH_EVENT,
  type RoomSettings,
  settingsSchema,
} from '../protocol/manager.ts';
import { TrustBook } from '../verifier/trust.ts';
import type { NodeContext } from './context.ts';

/**
 * The coordination state of one mesh room on this node: the Manager's TaskBook (kept on
 * disk), the election, and when each node was last heard from (liveness).
 */
export class MeshRoom {
  readonly id: RoomId;
  readonly book = new TaskBook();
  /** What the Verifier knows of each node, from the coordinators' verdicts (kept on disk). */
  readonly trust: TrustBook;
  readonly election: Election;
  /** The room's settings (`org.meshbot.settings`), over the node's config defaults. */
  settings: RoomSettings;
  readonly #ctx: NodeContext;
  readonly #file: BookFile;
  readonly #heard = new Map<UserId, number>();
  /** Nodes that went quiet where an answer was due (a lease ran out): no work until heard. */
  readonly #suspects = new Set<UserId>();
  readonly #startedAt = Date.now();
  #dirty = false;
  /**
   * The tasks whose verdicts the trust records hold, kept on disk with them: the coordinator
   * applies its own verdict before its event comes back, and a node that restarts in between
   * reads that event again.
   */
  readonly #verdicts = new Set<string>();

  constructor(ctx: NodeContext, id: RoomId) {
    this.#ctx = ctx;
    this.id = id;
    this.#file = new BookFile(join(ctx.config.dataDir, 'mesh'), id);
    this.trust = new TrustBook(ctx.config.verifier);
    this.settings = { autoTranscribe: ctx.config.whisper.autoTranscribe };
    this.election = new Election({
      self: ctx.self,
      leaseMs: ctx.config.mesh.leaseMs,
      candidates: () => this.liveNodes(),
      gone: (user) => {
        const view = ctx.roster.view(id);
        return view !== undefined && !view.members.has(user);
      },
      publish: (lease: Lease) => ctx.client.sendState(id, MESH_EVENT.lease, '', lease),
      log: ctx.log.child({ part: 'election', room: id }),
    });
  }

  /** Loads the book from disk and the current lease from room state. */
  async load(): Promise<void> {
    const snap = await this.#file.load();
    if (snap) this.book.restore(snap);
    try {
      if (snap?.trust) this.trust.restore(snap.trust);
      // Only with the records that hold them: records started afresh take them again.
      const seen: unknown[] = Array.isArray(snap?.verdicts) ? snap.verdicts : [];
      for (const task of seen) if (typeof task === 'string') this.verdictSeen(task);
    } catch (err) {
      this.#ctx.log.warn('the saved trust records are unreadable; starting afresh', { err });
    }
    // Who coordinated before the restart: their replies, replayed now, still count, and a
    // forged or stale lease in room state cannot make this node forget the newest term.
    if (Array.isArray(snap?.terms)) {
      const pairs = snap.terms.filter(
        (p): p is [number, UserId] =>
          Array.isArray(p) && Number.isSafeInteger(p[0]) && p[0] >= 0 && typeof p[1] === 'string',
      );
      this.election.clock.restoreHolders(pairs);
    }
    const state = await this.#ctx.client.stateOfType(this.id, MESH_EVENT.lease);
    const event = state.get('');
    const lease = leaseSchema.safeParse(event?.content);
    // Room state keeps whoever wrote last: only a node's own claim counts.
    const view = this.#ctx.roster.view(this.id);
    const valid = lease.success && lease.data.holder === event?.sender;
    if (valid && this.#ctx.admission.isNode(view, event.sender)) {
      this.election.clock.observe(lease.data, Date.now());
    }
    const settings = (await this.#ctx.client.stateOfType(this.id, MESH_EVENT.settings)).get('');
    if (settings) this.applySettings(settings);
  }

  /**
   * A settings state event: counts only from a node (which sets it for an admitted user's
   * `!autotranscribe`) or from a user who may submit work here.
   */
  applySettings(event: RoomEvent): boolean {
    const view = this.#ctx.roster.view(this.id);
    const parsed = settingsSchema.safeParse(event.content);
    if (event.state_key !== '' || !parsed.success) return false;
    const { admission } = this.#ctx;
    if (!admission.isNode(view, event.sender) && admission.refusal(view, event.sender) !== null) {
      return false;
    }
    this.settings = { ...this.settings, ...parsed.data };
    return true;
  }

  /** Something was heard from `user`: it is alive. */
  heard(user: UserId): void {
    this.#heard.set(user, Date.now());
    this.#suspects.delete(user);
  }

  /** `user` let a lease run out: it gets no work (and no turn to claim) until heard again. */
  suspect(user: UserId): void {
    if (user !== this.#ctx.self) this.#suspects.add(user);
  }

  /**
   * Admitted nodes that are joined and were heard from lately (or that this node has not
   * been running long enough to judge), sorted.
   */
  liveNodes(): UserId[] {
    const view = this.#ctx.roster.view(this.id);
    if (!view) return [];
    const now = Date.now();
    const ttl = this.#ctx.config.mesh.heartbeatMs * 2.5;
    return liveNodes(view).filter((n) => {
      if (!this.#ctx.admission.isNode(view, n)) return false;
      if (n === this.#ctx.self) return true;
      if (this.#suspects.has(n)) return false;
      const last = this.#heard.get(n) ?? this.#startedAt;
      return now - last < ttl;
    });
  }

  /** Agreeing results before a node is trusted. */
  get trustWarmup(): number {
    return this.#ctx.config.verifier.warmup;
  }

  /** True the first time a verdict on `task` is seen (the coordinator applies its own at once). */
  verdictSeen(task: string): boolean {
    if (this.#verdicts.has(task)) return false;
    this.#verdicts.add(task);
    if (this.#verdicts.size > 5_000)
      this.#verdicts.delete(this.#verdicts.values().next().value as string);
    return true;
  }

  changed(): void {
    this.#dirty = true;
  }

  /**
   * Writes the book when it changed; called before the sync position is saved. A write that
   * fails leaves the book to write at the next flush: the sync batch comes again, but the
   * coordinator's own changes (requests taken, tasks accepted) are in none of its events.
   */
  async flush(): Promise<void> {
    if (!this.#dirty) return;
    this.#dirty = false;
    try {
      await this.#file.save({
        ...this.book.snapshot(),
        trust: this.trust.snapshot(),
        verdicts: [...this.#verdicts],
        terms: this.election.clock.holders(),
      });
    } catch (err) {
      this.#dirty = true;
      throw err;
    }
  }
}
