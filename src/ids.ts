/**
 * Ids get their own types so a room id is never passed where a user id belongs.
 * They are plain strings at run time.
 */
declare const brand: unique symbol;
type Brand<T, B extends string> = T & { readonly [brand]: B };

/** A Matrix user id such as `@alice:example.org`; a node is identified by its bot's user id. */
export type UserId = Brand<string, 'UserId'>;
export type NodeId = UserId;
/** A Matrix room id such as `!abc:example.org`. */
export type RoomId = Brand<string, 'RoomId'>;
/** A Matrix event id. */
export type EventId = Brand<string, 'EventId'>;
/** A CID in its string form. */
export type CidString = Brand<string, 'CidString'>;
/** A task id: the CID of the task's canonical dag-json block. */
export type TaskId = Brand<string, 'TaskId'>;

export const asUserId = (s: string): UserId => s as UserId;
export const asRoomId = (s: string): RoomId => s as RoomId;
export const asEventId = (s: string): EventId => s as EventId;
export const asCidString = (s: string): CidString => s as CidString;
export const asTaskId = (s: string): TaskId => s as TaskId;
