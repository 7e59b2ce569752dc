import type { EventId } from '../ids.ts';
import type { RoomEvent } from './types.ts';

/** An event replied to: its id, and its `m.relates_to` (which says whether it is in a thread). */
export interface ReplyTarget {
  id: string;
  relatesTo?: unknown;
}

/** The root of the thread an event with this `m.relates_to` is in; undefined outside threads. */
export function threadOf(relatesTo: unknown): string | undefined {
  const rel = relatesTo as { rel_type?: unknown; event_id?: unknown } | undefined;
  return rel?.rel_type === 'm.thread' && typeof rel.event_id === 'string' && rel.event_id !== ''
    ? rel.event_id
    : undefined;
}

/**
 * The event a message replies to, if it is a reply. In a thread, an `m.in_reply_to` marked
 * `is_falling_back` only names the thread's latest message (for clients without threads):
 * the message is about the thread's root then (a `!run` in the thread of a file). So is a
 * message in a thread with no `m.in_reply_to` at all, which some clients send.
 */
export function repliedTo(relatesTo: unknown): EventId | undefined {
  const rel = relatesTo as
    | {
        rel_type?: unknown;
        event_id?: unknown;
        is_falling_back?: unknown;
        'm.in_reply_to'?: { event_id?: unknown };
      }
    | undefined;
  const fallback =
    rel?.rel_type === 'm.thread' &&
    (rel.is_falling_back === true || rel['m.in_reply_to'] === undefined);
  const id = fallback ? rel?.event_id : rel?.['m.in_reply_to']?.event_id;
  return typeof id === 'string' && id.startsWith('$') ? (id as EventId) : undefined;
}

/**
 * The part of an `m.relates_to` that `threadOf` and `repliedTo` read, and nothing else: a
 * command waits with it in the request log (up to 1,000 of them, saved to disk), and a
 * client may put up to an event's 64 KB in it. Undefined when none of it is there.
 */
export function keptRelation(relatesTo: unknown): Record<string, unknown> | undefined {
  if (!relatesTo || typeof relatesTo !== 'object') return undefined;
  const rel = relatesTo as Record<string, unknown>;
  const id = (v: unknown) => (typeof v === 'string' && v.length <= 255 ? v : undefined);
  const replyTo = id((rel['m.in_reply_to'] as { event_id?: unknown } | undefined)?.event_id);
  const kept: Record<string, unknown> = {
    ...(typeof rel.rel_type === 'string' && rel.rel_type.length <= 64
      ? { rel_type: rel.rel_type }
      : {}),
    ...(id(rel.event_id) ? { event_id: rel.event_id } : {}),
    ...(typeof rel.is_falling_back === 'boolean' ? { is_falling_back: rel.is_falling_back } : {}),
    ...(rel['m.in_reply_to'] !== undefined
      ? { 'm.in_reply_to': replyTo ? { event_id: replyTo } : {} }
      : {}),
  };
  return Object.keys(kept).length > 0 ? kept : undefined;
}

/**
 * The `m.relates_to` of a reply to `to`: in its thread if it is in one, else starting a thread
 * on it (a homeserver refuses a thread rooted on an event that is itself in one).
 * `m.in_reply_to` makes clients without thread support show it as a reply.
 */
export function replyRelation(to: ReplyTarget): Record<string, unknown> {
  return {
    rel_type: 'm.thread',
    event_id: threadOf(to.relatesTo) ?? to.id,
    is_falling_back: true,
    'm.in_reply_to': { event_id: to.id },
  };
}

/** Content of a threaded reply to `to` (see `replyRelation`). */
export function threadedReply(to: RoomEvent, text: string, html?: string): Record<string, unknown> {
  return {
    msgtype: 'm.notice',
    body: text,
    ...(html ? { format: 'org.matrix.custom.html', formatted_body: html } : {}),
    'm.relates_to': replyRelation({ id: to.event_id, relatesTo: to.content['m.relates_to'] }),
  };
}

/**
 * A message's own text: the body without the quote of the message it replies to, which older
 * clients put first (lines starting with `> `, then a blank line; the reply fallback).
 */
export function ownText(content: Record<string, unknown>): string {
  const body = typeof content.body === 'string' ? content.body : '';
  const rel = content['m.relates_to'] as { 'm.in_reply_to'?: unknown } | undefined;
  if (rel?.['m.in_reply_to'] === undefined || !body.startsWith('> ')) return body;
  const lines = body.split('\n');
  let i = 0;
  while (i < lines.length && (lines[i] as string).startsWith('>')) i++;
  if (lines[i] === '') i++;
  return lines.slice(i).join('\n');
}

/**
 * The most a reply's text may take, in JSON bytes: an event is refused past 60,000 with
 * everything else in it, and a refused answer would be tried again for ever. Characters are
 * no measure: a CJK character takes 3 bytes, a control character 6 once escaped.
 */
export const MAX_REPLY_TEXT_BYTES = 40_000;
const TRUNCATED = '… (truncated)';

/** `text`, cut to its first `maxUnits` UTF-16 units, never inside a surrogate pair. */
export function cutText(text: string, maxUnits: number): string {
  if (text.length <= maxUnits) return text;
  const last = text.charCodeAt(maxUnits - 1);
  return text.slice(0, last >= 0xd800 && last <= 0xdbff ? maxUnits - 1 : maxUnits);
}

/** `text` as a reply may carry it: whole when it fits in `maxBytes` of JSON, else cut. */
export function fitReply(text: string, maxBytes = MAX_REPLY_TEXT_BYTES): string {
  const size = (s: string) => Buffer.byteLength(JSON.stringify(s));
  if (size(text) <= maxBytes) return text;
  // The longest start that fits, with the mark.
  let lo = 0;
  let hi = text.length;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (size(cutText(text, mid) + TRUNCATED) <= maxBytes) lo = mid;
    else hi = mid - 1;
  }
  return cutText(text, lo) + TRUNCATED;
}

/**
 * A bot's message content, saying it mentions nobody (`m.mentions`, an edit's new content
 * too). The bot quotes what people write and what engines output; without it, clients that
 * still match the body would take an `@room` in it as a mention of the whole room.
 */
export function mentioningNobody(content: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { 'm.mentions': {}, ...content };
  const edit = content['m.new_content'];
  if (typeof edit === 'object' && edit !== null && !('m.mentions' in edit)) {
    out['m.new_content'] = { 'm.mentions': {}, ...edit };
  }
  return out;
}
