import type { Config } from '../config/schema.ts';
import type { UserId } from '../ids.ts';
import type { RoomView } from './roster.ts';

/**
 * The mesh policy. Work may be submitted by the owner, the configured users, and room members
 * at or above the configured power level. Nodes are members that announced themselves.
 * Invites are accepted from the owner and the configured users only.
 */
export class Admission {
  readonly #owner: UserId;
  readonly #users: Set<string>;
  readonly #powerLevel: number;

  constructor(config: Pick<Config, 'owner' | 'admission'>) {
    this.#owner = config.owner as UserId;
    this.#users = new Set(config.admission.users);
    this.#powerLevel = config.admission.powerLevel;
  }

  mayInvite(user: UserId): boolean {
    return user === this.#owner || this.#users.has(user);
  }

  maySubmit(view: RoomView | undefined, user: UserId): boolean {
    if (user === this.#owner || this.#users.has(user)) return true;
    if (!view?.members.has(user)) return false;
    return (view.powerLevels.get(user) ?? view.powerDefault) >= this.#powerLevel;
  }

  /** Whether a sender counts as a node of the mesh in this room. */
  isNode(view: RoomView | undefined, user: UserId): boolean {
    return !!view && view.nodes.has(user) && view.members.has(user);
  }

  /** Members whose block wants and answers are served and taken. */
  isMember(view: RoomView | undefined, user: UserId): boolean {
    return !!view && view.members.has(user);
  }
}
