/**
 * A node that offers an engine it cannot run after all says why, in the room: here two bots
 * without Docker offer a Docker engine by `name@cid` (allowed, not yet downloaded); the one
 * assigned downloads it, finds it needs Docker, and the person reads the reason.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type DevMesh, startDevMesh } from '../../src/dev/dev-mesh.ts';
import { packIntoDataDir } from '../../src/engines/pack.ts';
import { testMeshOptions } from '../support/mesh.ts';

const docker = inject('docker');
const ENGINES = fileURLToPath(new URL('../../engines', import.meta.url));

describe.skipIf(!docker)('a node refuses an engine it cannot run, with the reason', () => {
  let mesh: DevMesh;
  let dir: string;
  let fibsumDocker: string;

  beforeAll(async () => {
    // The package, pinned to the test image's digest, as a node with Docker would make it.
    const opts = await testMeshOptions('refusal');
    dir = opts.dir;
    const [packed] = await packIntoDataDir(join(dir, 'packer'), {
      dir: ENGINES,
      names: ['fibsum-docker'],
      dockerSocket: docker?.socketPath,
    });
    fibsumDocker = packed?.cid as string;
    mesh = await startDevMesh({
      ...opts,
      botConfig: {
        limits: { fetchTimeoutMs: 4_000 },
        engines: {
          allow: ['wordcount', `fibsum-docker@${fibsumDocker}`],
          docker: { enabled: false },
        },
      },
    });
    for (const bot of [0, 1]) {
      await packIntoDataDir(join(dir, `bot${bot + 1}`), {
        dir: ENGINES,
        names: ['fibsum-docker'],
        dockerSocket: docker?.socketPath,
      });
    }
  });

  afterAll(async () => {
    await mesh?.stop();
  });

  it('answers with the refusal and its reason, and keeps serving', async () => {
    const file = join(dir, 'n.json');
    await writeFile(file, '{"n": 10}');
    const cid = await mesh.add(file);
    const request = await mesh.person.send(mesh.roomId, `!run fibsum-docker ${cid}`);
    const bots = new Set(mesh.bots.map((b) => b.userId as string));
    const reply = await mesh.person.waitForReply(request, 45_000, bots);
    expect(reply.body).toContain('engine fibsum-docker is not available');
    expect(reply.body).toContain('this node has no docker runtime');
    expect(reply.body).toContain('ENGINE_REFUSED');
    const text = join(dir, 't.txt');
    await writeFile(text, 'still serving\n');
    const next = await mesh.person.send(mesh.roomId, `!run wordcount ${await mesh.add(text)}`);
    const ok = await mesh.person.waitFor(
      (m) => m.type === 'm.room.message' && bots.has(m.sender) && m.threadRoot === next,
      45_000,
    );
    expect(JSON.parse(ok.body.split('\n')[0] as string)).toEqual({ lines: 1, words: 2, chars: 14 });
  });
});
