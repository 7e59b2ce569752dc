import type { RoomEvent } from './types.ts';

/** The event a redaction removes: `content.redacts` from room version 11, `redacts` before. */
export function redactedId(event: RoomEvent): string | undefined {
  const id = event.content.redacts ?? (event as { redacts?: unknown }).redacts;
  return typeof id === 'string' && id !== '' ? id : undefined;
}
