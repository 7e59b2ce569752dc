import type { Config } from '../config/schema.ts';
import type { UserId } from '../ids.ts';
import { powerOf, type RoomView } from './roster.ts';

export interface AdmissionPolicy {
  owner: string;
  admission: Pick<Config['admission'], 'users' | 'powerLevel'> &
    Partial<Pick<Config['admission'], 'nodes' | 'nodePowerLevel'>>;
}

/**
 * The mesh policy. Work may be submitted by the owner, the configured users, and room members
 * at or above the configured power level. Nodes are joined members that announced themselves
 * and are listed, or may submit work and are at or above the node power level: a node can
 * take the coordinator's lease and hand out tasks, so it needs at least a submitter's
 * standing. Invites are accepted from the owner and the configured users only.
 */
export class Admission {
  readonly #owner: UserId;
  readonly #users: Set<string>;
  readonly #powerLevel: number;
  readonly #nodes: Set<string>;
  readonly #nodePowerLevel: number;

  constructor(config: AdmissionPolicy) {
    this.#owner = config.owner as UserId;
    this.#users = new Set(config.admission.users);
    this.#powerLevel = config.admission.powerLevel;
    this.#nodes = new Set(config.admission.nodes ?? []);
    this.#nodePowerLevel = config.admission.nodePowerLevel ?? 0;
  }

  mayInvite(user: UserId): boolean {
    return user === this.#owner || this.#users.has(user);
  }

  maySubmit(view: RoomView | undefined, user: UserId): boolean {
    if (user === this.#owner || this.#users.has(user)) return true;
    if (!view?.members.has(user)) return false;
    return level(view, user) >= this.#powerLevel;
  }

  /** Why `user` may not submit, for the reply; null when they may. */
  refusal(view: RoomView | undefined, user: UserId): string | null {
    if (this.maySubmit(view, user)) return null;
    if (!view?.members.has(user)) return `${user} is not a member of this room`;
    return (
      `${user} is not admitted to run work in this mesh: it takes power level ` +
      `${this.#powerLevel} here (yours is ${level(view, user)}), or a node owner can add you`
    );
  }

  /**
   * Whether a sender counts as a node of the mesh in this room. A listing stands on its own,
   * so a room that restricts who submits can still admit its bots at level 0.
   */
  isNode(view: RoomView | undefined, user: UserId): boolean {
    if (!view?.nodes.has(user) || !view.members.has(user)) return false;
    if (this.#nodes.has(user)) return true;
    return this.maySubmit(view, user) && level(view, user) >= this.#nodePowerLevel;
  }

  /** Members whose block wants and answers are served and taken. */
  isMember(view: RoomView | undefined, user: UserId): boolean {
    return !!view && view.members.has(user);
  }
}

function level(view: RoomView, user: UserId): number {
  return powerOf(view, user);
}
