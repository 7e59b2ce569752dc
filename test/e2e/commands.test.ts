/**
 * A person asks the mesh about itself and about their work: `!mesh`, `!status` and `!cancel`
 * in the thread of a `!run`, `!help`, and wrong usage — each answered once, in a thread.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DevMesh, startDevMesh } from '../../src/dev/dev-mesh.ts';
import type { Message } from '../../src/dev/person.ts';
import { testMeshOptions } from '../support/mesh.ts';

const REPLY_MS = 45_000;
let mesh: DevMesh;
let cid: string;

beforeAll(async () => {
  const opts = await testMeshOptions('commands');
  mesh = await startDevMesh(opts);
  const file = join(opts.dir, 'in.txt');
  await writeFile(file, 'some words to count\n');
  cid = await mesh.add(file);
});

afterAll(async () => {
  await mesh?.stop();
});

const bots = () => new Set(mesh.bots.map((b) => b.userId as string));

async function replyTo(request: string): Promise<Message> {
  return mesh.person.waitFor(
    (m) => m.type === 'm.room.message' && bots().has(m.sender) && m.inReplyTo === request,
    REPLY_MS,
  );
}

/** Posts `body` in the thread of `root`, as a client with threads does. */
async function inThread(root: string, body: string): Promise<string> {
  const content = {
    msgtype: 'm.text',
    body,
    'm.relates_to': { rel_type: 'm.thread', event_id: root },
  };
  const { event_id } = await mesh.person.client.sendEvent(
    mesh.roomId,
    'm.room.message' as never,
    content as never,
  );
  return event_id;
}

describe('asking the mesh', () => {
  it('`!mesh` lists the nodes, the coordinator with its term, and the queue', async () => {
    const reply = await replyTo(await mesh.person.send(mesh.roomId, '!mesh'));
    for (const b of mesh.bots) expect(reply.body).toContain(b.userId);
    expect(reply.body).toMatch(/coordinator: @\S+ \(term \d+\)/);
    expect(reply.body).toContain('queue:');
  });

  it('`!status` in the thread of a `!run` tells its state, attempts and node', async () => {
    const request = await mesh.person.send(mesh.roomId, `!run wordcount ${cid}`);
    await replyTo(request);
    const reply = await replyTo(await inThread(request, '!status'));
    expect(reply.body).toMatch(/^task \S+: done/);
    expect(reply.body).toContain('attempts: 1, node @');
  });

  it('`!cancel` in the thread of a running task withdraws it, and the request is answered so', async () => {
    const request = await mesh.person.send(mesh.roomId, `!run sleep ${cid} ms=4000`);
    await new Promise((r) => setTimeout(r, 500));
    const cancel = await inThread(request, '!cancel');
    expect((await replyTo(cancel)).body).toMatch(/^cancelled \S+/);
    expect((await replyTo(request)).body).toContain(`cancelled by ${mesh.person.userId}`);
    await new Promise((r) => setTimeout(r, 5_000));
    const answers = mesh.person.seen.filter(
      (m) => m.type === 'm.room.message' && bots().has(m.sender) && m.inReplyTo === request,
    );
    expect(answers).toHaveLength(1);
  });

  it('answers an edit into a command once, where the edited message is, and runs nothing', async () => {
    const { person, roomId } = mesh;
    const from = person.seen.length;
    const root = await person.send(roomId, 'counting words');
    const original = await inThread(root, 'let me count these');
    const body = `!run wordcount ${cid}`;
    const { event_id: edit } = await person.client.sendEvent(
      roomId,
      'm.room.message' as never,
      {
        msgtype: 'm.text',
        body: `* ${body}`,
        'm.new_content': { msgtype: 'm.text', body },
        'm.relates_to': { rel_type: 'm.replace', event_id: original },
      } as never,
    );
    const reply = await replyTo(original);
    expect(reply.body).toBe('an edited message is not run: post the command as a new message');
    expect(reply.threadRoot).toBe(root);
    // Nothing ran, and nothing answered the edit itself.
    await new Promise((r) => setTimeout(r, 3_000));
    const replies = person.seen.filter(
      (m) => bots().has(m.sender) && (m.inReplyTo === original || m.inReplyTo === edit),
    );
    expect(replies).toHaveLength(1);
    expect(person.seen.slice(from).some((m) => m.body.startsWith('{"lines"'))).toBe(false);
  });

  it('`!help` lists every command; `!status` without a task outside a thread gets the usage', async () => {
    const help = await replyTo(await mesh.person.send(mesh.roomId, '!help'));
    for (const c of ['!run', '!status', '!cancel', '!mesh', '!help'])
      expect(help.body).toContain(c);
    const usage = await replyTo(await mesh.person.send(mesh.roomId, '!status'));
    expect(usage.body).toContain('Usage: !status <task>');
  });
});
