import type { RoomId, UserId } from '../ids.ts';
import { asLevel } from '../mesh/roster.ts';
import { EVENT } from '../protocol/events.ts';
import { MESH_EVENT } from '../protocol/manager.ts';
import type { NodeContext } from './context.ts';

/** The mesh's event types that only nodes send. */
const NODE_EVENTS = [
  EVENT.head,
  EVENT.assign,
  EVENT.complete,
  MESH_EVENT.lease,
  MESH_EVENT.accept,
  MESH_EVENT.renew,
  MESH_EVENT.cancel,
  MESH_EVENT.settings,
];

/**
 * Where this bot may change the room's power levels, it makes them say what the mesh
 * expects: anyone may announce a node (so invited bots can join), and the Manager's events
 * take the node power level. Nodes check every sender themselves anyway: an encrypted or
 * misconfigured room gives no server-side protection.
 */
export async function ensureMeshPowerLevels(ctx: NodeContext, room: RoomId): Promise<void> {
  const current = (await ctx.client.stateOfType(room, 'm.room.power_levels')).get('')?.content;
  if (!current) return;
  const users = (current.users ?? {}) as Record<string, number>;
  const events = { ...((current.events ?? {}) as Record<string, number>) };
  const stateDefault = typeof current.state_default === 'number' ? current.state_default : 50;
  const levelOf = levelReader(current, ctx.roster.view(room)?.creators);
  const mine = levelOf(ctx.self);
  const needed = events['m.room.power_levels'] ?? stateDefault;
  if (mine < needed) return;
  // The node power level, not the bar to submit work; and no higher than any bot listed in
  // `admission.nodes`, which may sit below that level and must still be able to send these.
  // The full node policy is checked by every node on every event.
  // A listed bot counts if it is a member or has a level of its own here: one not in the
  // room yet would otherwise count at users_default.
  const { nodePowerLevel, nodes } = ctx.config.admission;
  const members = ctx.roster.view(room)?.members;
  const listed = nodes.filter((n) => members?.has(n as UserId) || n in users).map(levelOf);
  const level = Math.min(nodePowerLevel, mine, ...listed);
  const want: Record<string, number> = { [EVENT.node]: 0 };
  for (const type of NODE_EVENTS) want[type] = level;
  const missing = Object.entries(want).filter(([type, l]) => events[type] !== l);
  // Never lower a level someone raised on purpose, except the node announcement itself and
  // the node power level, which a bot set (a listed bot below it would be locked out).
  // The homeserver refuses the whole update if one level it changes is above the sender's,
  // before or after: such a level stays as it is, so that the others still change.
  const changes = missing.filter(
    ([type, l]) =>
      (events[type] === undefined ||
        type === EVENT.node ||
        l > (events[type] ?? 0) ||
        events[type] === nodePowerLevel) &&
      Math.max(l, events[type] ?? l) <= mine,
  );
  const above = missing.filter(([type]) => (events[type] ?? 0) > mine).map(([type]) => type);
  if (above.length > 0)
    ctx.log.warn('mesh event levels above this bot left as they are', { room, above });
  if (changes.length === 0) return;
  for (const [type, l] of changes) events[type] = l;
  await ctx.client.sendState(room, 'm.room.power_levels', '', { ...current, events });
  ctx.log.info('set the power levels of the mesh events', { room, level });
}

/**
 * A user's level as the homeserver reckons it for this power levels content: a room's
 * creators from version 12 (roster.ts) outrank every level and are listed nowhere, so a bot
 * that created the room would otherwise read users_default and think it may change nothing.
 */
function levelReader(
  content: Record<string, unknown>,
  creators: ReadonlySet<UserId> | undefined,
): (user: string) => number {
  // Read as the roster reads levels (asLevel): numbers, or digits in older rooms.
  const users = (content.users ?? {}) as Record<string, unknown>;
  const usersDefault = asLevel(content.users_default) ?? 0;
  return (user) =>
    creators?.has(user as UserId)
      ? Number.POSITIVE_INFINITY
      : (asLevel(users[user]) ?? usersDefault);
}
