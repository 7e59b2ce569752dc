import type { RoomEvent } from './types.ts';

/**
 * Content of a threaded reply to `to`: in its thread if it is in one, else starting a thread
 * on it. `m.in_reply_to` makes clients without thread support show it as a reply.
 */
export function threadedReply(to: RoomEvent, text: string, html?: string): Record<string, unknown> {
  const rel = to.content['m.relates_to'] as { rel_type?: string; event_id?: string } | undefined;
  const root = rel?.rel_type === 'm.thread' && rel.event_id ? rel.event_id : to.event_id;
  return {
    msgtype: 'm.notice',
    body: text,
    ...(html ? { format: 'org.matrix.custom.html', formatted_body: html } : {}),
    'm.relates_to': {
      rel_type: 'm.thread',
      event_id: root,
      is_falling_back: true,
      'm.in_reply_to': { event_id: to.event_id },
    },
  };
}
