/**
 * A person in a room with two bots on a real Synapse posts `!run` and reads the result as a
 * threaded reply. Every part is real: Synapse, matrix-bot-sdk, helia on disk, isolated-vm.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DevMesh, startDevMesh } from '../../src/dev/dev-mesh.ts';
import { isProgressNote, type Message } from '../../src/dev/person.ts';
import { EVENT } from '../../src/protocol/events.ts';
import { askMesh, testMeshOptions } from '../support/mesh.ts';

const REPLY_MS = 45_000;
let mesh: DevMesh;
let dir: string;

beforeAll(async () => {
  // ackDelayMs 0: 👀 at once, even for work answered quickly (by default, a request answered
  // within 1.5 s gets no reactions: its reply shows its state).
  const opts = await testMeshOptions('e2e', {
    // progressAfterMs 0: a progress notice as soon as an engine reports any.
    botConfig: {
      limits: { fetchTimeoutMs: 4_000 },
      mesh: { ackDelayMs: 0, progressAfterMs: 0, progressEveryMs: 500 },
    },
  });
  dir = opts.dir;
  mesh = await startDevMesh(opts);
});

afterAll(async () => {
  await mesh?.stop();
});

const ask = (body: string) => askMesh(mesh, body, REPLY_MS);

async function addText(text: string, bot = 0): Promise<string> {
  const file = join(dir, `input-${Date.now()}-${Math.random()}.txt`);
  await writeFile(file, text);
  return mesh.add(file, bot);
}

describe('a person runs work in a mesh of two bots', () => {
  it('answers `!run wordcount <cid>` with the count, as a threaded reply, after an acknowledgement', async () => {
    const cid = await addText('the quick brown fox\njumps over the lazy dog\n');
    const { request, reply } = await ask(`!run wordcount ${cid}`);
    expect(JSON.parse(reply.body.split('\n')[0] as string)).toEqual({
      lines: 2,
      words: 9,
      chars: 44,
    });
    expect(reply.inReplyTo).toBe(request);
    // 👀 once accepted, then ✅ once answered (from the node that showed 👀).
    const reaction = (key: string) => (m: Message) =>
      m.type === 'm.reaction' &&
      (m.content['m.relates_to'] as { event_id?: string; key?: string })?.event_id === request &&
      (m.content['m.relates_to'] as { key?: string }).key === key;
    await mesh.person.waitFor(reaction('👀'), REPLY_MS);
    await mesh.person.waitFor(reaction('✅'), REPLY_MS);
    const order = mesh.person.seen.filter((m) => reaction('👀')(m) || reaction('✅')(m));
    expect(order.map((m) => (m.content['m.relates_to'] as { key: string }).key)).toEqual([
      '👀',
      '✅',
    ]);
  });

  it('fetches an input that only another bot holds through the room', async () => {
    const text = 'only the second bot has this file\n'.repeat(2000); // ~68 KB: a CAR in the media repo
    const cid = await addText(text, 1);
    const { reply } = await ask(`!run wordcount ${cid}`);
    expect(JSON.parse(reply.body.split('\n')[0] as string)).toEqual({
      lines: 2000,
      words: 14000,
      chars: text.length,
    });
  });

  it('shows the progress of long work in the thread, edited in place, then answers', async () => {
    const line = 'the quick brown fox jumps over the lazy dog\n';
    const cid = await addText(line.repeat(80_000)); // 3.5 MB: wordcount reports progress
    const { request, reply } = await ask(`!run wordcount ${cid}`);
    expect(JSON.parse(reply.body.split('\n')[0] as string)).toMatchObject({ lines: 80_000 });
    const note = await mesh.person.waitFor(
      (m) => isProgressNote(m) && m.threadRoot === request,
      REPLY_MS,
    );
    expect(note.body).toMatch(/^wordcount: \d+%$/);
    const last = await mesh.person.waitFor(
      (m) =>
        isProgressNote(m) &&
        (m.content['m.relates_to'] as { event_id?: string })?.event_id === note.eventId &&
        /done after \d+ s/.test(String((m.content['m.new_content'] as { body?: string })?.body)),
      REPLY_MS,
    );
    expect((last.content['m.relates_to'] as { rel_type?: string }).rel_type).toBe('m.replace');
  });

  it('answers a `!run` posted in a thread in that thread', async () => {
    // Synapse refuses a thread rooted on an event that has a relation: an answer that
    // started its own thread on the `!run` would never go out.
    const cid = await addText('one thread\n');
    const { person, roomId } = mesh;
    const root = await person.send(roomId, 'counting words here');
    const { event_id: request } = await person.client.sendEvent(
      roomId,
      'm.room.message' as never,
      {
        msgtype: 'm.text',
        body: `!run wordcount ${cid}`,
        'm.relates_to': {
          rel_type: 'm.thread',
          event_id: root,
          is_falling_back: true,
          'm.in_reply_to': { event_id: root },
        },
      } as never,
    );
    const reply = await person.waitFor(
      (m) => m.inReplyTo === request && m.type === 'm.room.message' && !isProgressNote(m),
      REPLY_MS,
    );
    expect(reply.threadRoot).toBe(root);
    expect(JSON.parse(reply.body.split('\n')[0] as string)).toEqual({
      lines: 1,
      words: 2,
      chars: 11,
    });
  });

  it('runs `!run wordcount` sent as a reply to a text file posted in the room, with no CID', async () => {
    const { person, roomId } = mesh;
    const bytes = Buffer.from('a file posted in the room\nno CID needed\n');
    const { content_uri } = await person.client.uploadContent(bytes, {
      type: 'text/plain',
      name: 'notes.txt',
    });
    const file = {
      msgtype: 'm.file',
      body: 'notes.txt',
      url: content_uri,
      info: { mimetype: 'text/plain', size: bytes.byteLength },
    };
    const { event_id: posted } = await person.client.sendMessage(roomId, file as never);
    const replyTo = async (to: string, body: string) => {
      const content = {
        msgtype: 'm.text',
        body,
        'm.relates_to': { 'm.in_reply_to': { event_id: to } },
      };
      const { event_id } = await person.client.sendMessage(roomId, content as never);
      return person.waitForReply(event_id, REPLY_MS);
    };
    const reply = await replyTo(posted, '!run wordcount');
    expect(JSON.parse(reply.body.split('\n')[0] as string)).toEqual({
      lines: 2,
      words: 9,
      chars: 40,
    });
    // A reply to a message without a file is wrong usage.
    const chat = await person.send(roomId, 'no file here');
    expect((await replyTo(chat, '!run wordcount')).body).toContain('Usage: !run <engine> <cid>');
  });

  it('withdraws a running task whose `!run` its sender deleted, and says so', async () => {
    const { person, roomId } = mesh;
    const request = await person.send(roomId, `!run sleep ${mesh.sampleCid} ms=4000`);
    await person.waitFor(
      (m) =>
        m.type === 'm.reaction' &&
        (m.content['m.relates_to'] as { event_id?: string })?.event_id === request,
      REPLY_MS,
    );
    await person.client.redactEvent(roomId, request);
    const reply = await person.waitForReply(request, REPLY_MS);
    expect(reply.body).toBe(`sleep: its request was deleted by ${person.userId}`);
  });

  it('has a bot whose announcement a moderator deleted announce itself again at once, and keeps serving', async () => {
    const { person, roomId } = mesh;
    const bot = mesh.bots[1]?.userId as string;
    const announcement = async () =>
      (await person.client.roomState(roomId)).find(
        (e) => e.type === EVENT.node && e.state_key === bot,
      );
    const deleted = (await announcement())?.event_id as string;
    await person.client.redactEvent(roomId, deleted);
    // The heartbeat would announce it again in a minute; the bot does so as soon as it sees the
    // redaction.
    let now: Awaited<ReturnType<typeof announcement>>;
    const end = Date.now() + 15_000;
    do {
      await new Promise((r) => setTimeout(r, 250));
      now = await announcement();
    } while ((now?.event_id === deleted || !now?.content.engines) && Date.now() < end);
    expect(now?.event_id).not.toBe(deleted);
    const engines = (now?.content.engines ?? []) as { name: string }[];
    expect(engines.map((e) => e.name)).toContain('wordcount');
    const log = await readFile(join(dir, 'bots.log'), 'utf8');
    expect(log).toContain('a node announcement was deleted: the node is withdrawn');
    const cid = await addText('after the deletion\n');
    const { reply } = await ask(`!run wordcount ${cid}`);
    expect(JSON.parse(reply.body.split('\n')[0] as string)).toMatchObject({ words: 3 });
  });

  it('answers an unknown engine with the engines the mesh has', async () => {
    const { reply } = await ask(`!run nosuchengine ${mesh.sampleCid}`);
    expect(reply.body).toContain('no node in this mesh runs the engine "nosuchengine"');
    expect(reply.body).toContain('wordcount');
  });

  it('answers a malformed CID clearly', async () => {
    const { reply } = await ask('!run wordcount not-a-cid');
    expect(reply.body).toMatch(/not a valid CID/i);
  });

  it('answers a CID that no node has within a bounded time', async () => {
    const missing = 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku';
    const started = Date.now();
    const { reply } = await ask(`!run wordcount ${missing}`);
    expect(reply.body).toContain(`no node in the mesh has ${missing}`);
    expect(Date.now() - started).toBeLessThan(REPLY_MS);
  });

  it('answers wrong usage with the usage', async () => {
    const { reply } = await ask('!run');
    expect(reply.body).toContain('Usage: !run <engine> <cid>');
  });

  it('keeps serving after bad input', async () => {
    const cid = await addText('still alive\n');
    const { reply } = await ask(`!run wordcount ${cid}`);
    expect(JSON.parse(reply.body.split('\n')[0] as string)).toEqual({
      lines: 1,
      words: 2,
      chars: 12,
    });
  });
});
