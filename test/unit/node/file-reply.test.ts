/**
 * `!run <engine>` sent as a reply to a file posted in the room runs the engine on that file:
 * the coordinator fetches it from the homeserver's media repository (a local server plays it
 * here, behind the real capped download), adds it to its store as `meshbot add` does, and
 * makes the task that `!run <engine> <that cid>` makes. An encrypted file is refused, a reply
 * to a message without a file gets the usage, and a file over `limits.maxInputBytes` is
 * refused before the coordinator holds it. Whisper still takes audio only.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CID } from 'multiformats/cid';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { addFile } from '../../../src/cli/add.ts';
import { readTaskBlock } from '../../../src/coordinator/task-block.ts';
import type { EventId, RoomId, UserId } from '../../../src/ids.ts';
import { downloadMedia } from '../../../src/matrix/media.ts';
import { Dispatch } from '../../../src/node/dispatch.ts';
import { type FakeRoom, fakeRoom, ROOM } from '../../support/fake-room.ts';

const ALICE = '@alice:hs';
const MiB = 1024 * 1024;
const USAGE = 'Usage: !run <engine> <cid> [key=value ...]';

/** The media repository: files by media id, and the ids asked for. */
const media = new Map<string, Uint8Array>();
const fetched: string[] = [];
let server: Server;
let homeserverUrl: string;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'meshbot-file-reply-'));
  server = createServer((req, res) => {
    const id = decodeURIComponent(req.url?.split('/').at(-1) ?? '');
    fetched.push(id);
    const bytes = media.get(id);
    if (bytes) return void res.end(Buffer.from(bytes));
    res.statusCode = 404;
    res.end(JSON.stringify({ errcode: 'M_NOT_FOUND' }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  homeserverUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
  await rm(dir, { recursive: true, force: true });
});

beforeEach(() => {
  media.clear();
  fetched.length = 0;
});

/** A mesh room this node coordinates, offering wordcount, sha256 and whisper, with `messages`. */
async function mesh(messages: Record<string, Record<string, unknown>>): Promise<FakeRoom> {
  const f = await fakeRoom({ self: '@me:hs', members: [ALICE] });
  f.lease('@me:hs', 1);
  const cidOf = async (s: string) =>
    (await f.ctx.store.addBytes(new TextEncoder().encode(s))).toString();
  const me = f.ctx.roster.view(ROOM)?.nodes.get('@me:hs' as UserId) as { engines: unknown[] };
  me.engines = [
    { name: 'wordcount', cid: await cidOf('wordcount'), runtime: 'isolated-vm' },
    { name: 'sha256', cid: await cidOf('sha256'), runtime: 'isolated-vm' },
    { name: 'whisper', cid: await cidOf('whisper'), runtime: 'whisper' },
  ];
  Object.assign(f.ctx.client, {
    getEvent: async (_room: RoomId, id: EventId) => {
      const content = messages[id];
      if (!content) throw Object.assign(new Error('not found'), { errcode: 'M_NOT_FOUND' });
      return { type: 'm.room.message', event_id: id, sender: ALICE, origin_server_ts: 0, content };
    },
    download: (mxc: string, maxBytes: number, signal?: AbortSignal) =>
      downloadMedia({ homeserverUrl, accessToken: 'token' }, mxc, { maxBytes, signal }),
  });
  return f;
}

/** A file message (`msgtype`) whose media `id` holds `bytes`, as Element posts one. */
function posted(msgtype: string, id: string, bytes: Uint8Array, info: object = {}) {
  media.set(id, bytes);
  return {
    msgtype,
    body: `${id}.bin`,
    url: `mxc://hs/${id}`,
    info: { size: bytes.length, ...info },
  };
}

let seq = 0;
/** Alice posts `body` as a reply to `to` (or with the `m.relates_to` given); the task the
 * coordinator made, and its reply, if any. */
async function replyWith(f: FakeRoom, body: string, to: string | null | object = '$file') {
  const relatesTo = typeof to === 'string' ? { 'm.in_reply_to': { event_id: to } } : to;
  const req = {
    id: `$run${++seq}`,
    sender: ALICE,
    body,
    seenAt: Date.now(),
    ...(relatesTo === null ? {} : { relatesTo }),
  };
  const sentBefore = f.sent.length;
  const accepted = await new Dispatch(f.ctx).handle(f.room, req);
  const reply = f.sent.slice(sentBefore).at(-1)?.content.body as string | undefined;
  const block = accepted ? f.room.book.get(accepted.task)?.block : undefined;
  const task = accepted && block ? readTaskBlock(accepted.task, block) : undefined;
  return { task, reply, request: req.id };
}

/** The CID `meshbot add` prints for a file holding `bytes`. */
async function cliAdd(bytes: Uint8Array): Promise<string> {
  const file = join(dir, `input-${++seq}`);
  await writeFile(file, bytes);
  return addFile(join(dir, `node-${seq}`), file);
}

describe('`!run <engine>` in reply to a file', () => {
  it('runs the engine on the file, by the CID `meshbot add` prints for it', async () => {
    // Over one UnixFS chunk: the CID is a DAG's, which only the same import settings match.
    const text = new TextEncoder().encode('the quick brown fox\n'.repeat(80_000));
    const f = await mesh({ $file: posted('m.file', 'notes', text, { mimetype: 'text/plain' }) });

    const { task, reply, request } = await replyWith(f, '!run wordcount mode=lines');
    expect(reply).toBeUndefined(); // accepted: answered when the task is final
    expect(task?.engine.name).toBe('wordcount');
    expect(task?.input.toString()).toBe(await cliAdd(text));
    expect(task?.params).toEqual({ mode: 'lines' });
    expect(task?.request).toBe(request);
    // The coordinator holds the blocks: workers fetch them from the mesh as any input's.
    const held = await f.ctx.store.cat(task?.input as CID, { offline: true, maxBytes: 2 * MiB });
    expect(Buffer.from(held).equals(Buffer.from(text))).toBe(true);
  });

  it("runs on the file when the `!run` is in the file's thread, with or without a reply in it", async () => {
    const text = new TextEncoder().encode('one two three\n');
    const f = await mesh({ $file: posted('m.file', 'notes', text) });
    const cid = await cliAdd(text);
    // Element: the thread, and a fallback reply to the thread's latest message.
    const fallback = {
      rel_type: 'm.thread',
      event_id: '$file',
      is_falling_back: true,
      'm.in_reply_to': { event_id: '$latest' },
    };
    // Clients that send the thread alone.
    const bare = { rel_type: 'm.thread', event_id: '$file' };
    for (const relatesTo of [fallback, bare]) {
      const { task, reply } = await replyWith(f, '!run wordcount', relatesTo);
      expect(reply).toBeUndefined();
      expect(task?.input.toString()).toBe(cid);
    }
  });

  it('takes an image, a video or audio the same way, and the task is the one the CID would make', async () => {
    const bytes = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]);
    const f = await mesh({
      $image: posted('m.image', 'pic', bytes, { mimetype: 'image/png' }),
      $video: posted('m.video', 'clip', bytes, { mimetype: 'video/mp4' }),
      $audio: posted('m.audio', 'voice', bytes, { mimetype: 'audio/ogg' }),
    });
    const cid = await cliAdd(bytes);
    for (const to of ['$image', '$video', '$audio']) {
      const { task } = await replyWith(f, '!run sha256', to);
      expect(task?.input.toString()).toBe(cid);
    }
    // Posted as `!run sha256 <cid>`, the same request makes the same task (one per command).
    const byCid = await replyWith(f, `!run sha256 ${cid}`, null);
    const byReply = await replyWith(f, '!run sha256', '$image');
    expect({ ...byReply.task, request: '' }).toEqual({ ...byCid.task, request: '' });
  });

  it('refuses an encrypted file clearly, without fetching anything', async () => {
    const f = await mesh({
      $file: {
        msgtype: 'm.file',
        body: 'secret.pdf',
        info: { mimetype: 'application/pdf', size: 10 },
        file: { url: 'mxc://hs/secret', key: { k: 'x' }, iv: 'y', hashes: {}, v: 'v2' },
      },
    });
    const { task, reply } = await replyWith(f, '!run wordcount');
    expect(task).toBeUndefined();
    expect(reply).toBe('encrypted files are not supported yet (end-to-end encryption) (BAD_INPUT)');
    expect(fetched).toEqual([]);
    expect(f.room.book.all()).toEqual([]);
  });

  it('answers a reply to a message without a file, or a `!run` with no CID, with the usage', async () => {
    const f = await mesh({ $chat: { msgtype: 'm.text', body: 'have a look at this' } });
    const toChat = await replyWith(f, '!run wordcount', '$chat');
    expect(toChat.task).toBeUndefined();
    expect(toChat.reply).toBe(
      `the message this replies to carries no file (a file, image, audio or video message). ${USAGE}`,
    );
    const alone = await replyWith(f, '!run sha256', null);
    expect(alone.reply).toBe(`missing arguments. ${USAGE}`);
    expect(f.room.book.all()).toEqual([]);
  });

  it('refuses a file over limits.maxInputBytes, declared or found while downloading', async () => {
    const big = new Uint8Array(1.5 * MiB);
    const f = await mesh({
      $declared: posted('m.file', 'declared', big),
      // A client that does not say the size: the download stops at the cap.
      $undeclared: { ...posted('m.video', 'undeclared', big), info: {} },
    });
    f.ctx.config.limits.maxInputBytes = MiB;
    const declared = await replyWith(f, '!run sha256', '$declared');
    expect(declared.reply).toBe(
      'the file is 1.5 MiB, larger than 1 MiB, the largest input taken here (limits.maxInputBytes) (BAD_INPUT)',
    );
    expect(fetched).toEqual([]); // refused on the message's word, before any download
    const undeclared = await replyWith(f, '!run sha256', '$undeclared');
    expect(undeclared.reply).toBe(
      'the file is larger than 1 MiB, the largest input taken here (limits.maxInputBytes) (BAD_INPUT)',
    );
    expect(f.room.book.all()).toEqual([]);
  });

  it('keeps whisper to audio: a voice message is transcribed, an image refused unfetched', async () => {
    const ogg = new TextEncoder().encode('OggS…');
    const f = await mesh({
      $voice: posted('m.audio', 'voice', ogg, { mimetype: 'audio/ogg' }),
      $image: posted('m.image', 'pic', new Uint8Array([1, 2, 3]), { mimetype: 'image/png' }),
      $chat: { msgtype: 'm.text', body: 'listen to this' },
    });
    const voice = await replyWith(f, '!run whisper lang=de', '$voice');
    expect(voice.task?.input.toString()).toBe(await cliAdd(ogg));
    fetched.length = 0;
    const image = await replyWith(f, '!run whisper', '$image');
    expect(image.reply).toBe(
      'the message this replies to is not a voice or audio message (BAD_INPUT)',
    );
    expect(fetched).toEqual([]);
    const chat = await replyWith(f, '!run whisper', '$chat');
    expect(chat.reply).toBe(
      `the message this replies to is not a voice or audio message. ${USAGE}`,
    );
  });
});
