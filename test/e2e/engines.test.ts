/**
 * Engines end to end, on the real Synapse with two bots, isolated-vm and the private Docker
 * engine: a person runs sha256 and a Docker engine and reads the right results as replies;
 * hostile engines are reported clearly in the room and the bots keep serving; an engine a
 * bot lacks is downloaded by CID through the mesh.
 */
import { cp, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type DevMesh, startDevMesh } from '../../src/dev/dev-mesh.ts';
import { loadEngineFolder } from '../../src/engines/manifest.ts';
import { packIntoDataDir } from '../../src/engines/pack.ts';
import { askMesh, testMeshOptions } from '../support/mesh.ts';

const docker = inject('docker');
const ENGINES = fileURLToPath(new URL('../../engines', import.meta.url));
const REPLY_MS = 45_000;
let mesh: DevMesh;
let dir: string;
let fibsumMapCid: string;

/** The repo's engines but fibsum-map (the bots download it), plus two hostile ones. */
async function enginesDir(root: string): Promise<string> {
  const out = join(root, 'engines');
  await cp(ENGINES, out, { recursive: true, filter: (src) => !src.includes('fibsum-map') });
  const hostile = async (name: string, manifest: object, code?: string) => {
    await mkdir(join(out, name));
    await writeFile(
      join(out, name, 'manifest.json'),
      JSON.stringify({ name, version: '1', ...manifest }),
    );
    if (code) await writeFile(join(out, name, 'main.js'), code);
  };
  await hostile(
    'spin',
    {
      runtime: 'isolated-vm',
      entry: 'main.js',
      description: 'an infinite loop',
      limits: { cpuMs: 500, wallMs: 2000 },
    },
    'function main() { for (;;) {} }',
  );
  await hostile('balloon', {
    runtime: 'docker',
    image: docker?.testImage,
    command: ['/bin/sh', '-c', 'x=0123456789abcdef; while :; do x="$x$x"; done'],
    description: 'a memory bomb in a container',
    limits: { memoryMb: 32, cpuMs: 5000, wallMs: 5000 },
  });
  return out;
}

async function ask(body: string): Promise<string> {
  return (await askMesh(mesh, body, REPLY_MS)).reply.body;
}

async function addText(text: string, bot = 0): Promise<string> {
  const file = join(dir, `input-${Date.now()}-${Math.random()}.txt`);
  await writeFile(file, text);
  return mesh.add(file, bot);
}

describe.skipIf(!docker)('engines in a mesh of two bots', () => {
  beforeAll(async () => {
    const opts = await testMeshOptions('engines');
    dir = opts.dir;
    fibsumMapCid = (await loadEngineFolder(join(ENGINES, 'fibsum-map'))).cid;
    const engines = await enginesDir(dir);
    mesh = await startDevMesh({
      ...opts,
      botConfig: {
        limits: { fetchTimeoutMs: 8_000 },
        engines: {
          dir: engines,
          allow: [
            'wordcount',
            'sha256',
            'fibsum-docker',
            'spin',
            'balloon',
            `fibsum-map@${fibsumMapCid}`,
          ],
          docker: { socket: docker?.socketPath },
        },
      },
    });
  });

  afterAll(async () => {
    await mesh?.stop();
  });

  it('answers `!run sha256 <cid>` with the digest', async () => {
    const cid = await addText('abc');
    const body = await ask(`!run sha256 ${cid}`);
    expect(body.split('\n')[0]).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
  });

  it('runs a Docker engine and answers with its JSON', async () => {
    const cid = await addText('{"n": 100}');
    const body = await ask(`!run fibsum-docker ${cid}`);
    expect(JSON.parse(body.split('\n')[0] as string)).toEqual({
      n: 100,
      sum: '927372692193078999175',
    });
  });

  it('reports an infinite loop clearly and keeps serving', async () => {
    const body = await ask(`!run spin ${await addText('x')}`);
    // On a machine too busy to give the loop half its window's CPU, the reply says that.
    expect(body).toMatch(/spin ran out of (CPU time \(limit 500 ms\)|time: it got \d+ ms of CPU)/);
    expect(body).toContain('ENGINE_TIMEOUT');
    const again = await ask(`!run sha256 ${await addText('abc')}`);
    expect(again).toContain('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('reports a memory bomb in a container clearly and keeps serving', async () => {
    const body = await ask(`!run balloon ${await addText('x')}`);
    expect(body).toContain('balloon ran out of memory (limit 32 MiB)');
    expect(body).toContain('ENGINE_MEMORY');
    const again = await ask(`!run fibsum-docker ${await addText('10')}`);
    expect(JSON.parse(again.split('\n')[0] as string)).toEqual({ n: 10, sum: 143 });
  });

  it('downloads an allowed engine by CID through the mesh and runs it', async () => {
    // Only the second bot's store has the package; neither bot's engines folder has it.
    const [packed] = await packIntoDataDir(join(dir, 'bot2'), {
      dir: ENGINES,
      names: ['fibsum-map'],
    });
    expect(packed?.cid).toBe(fibsumMapCid);
    const body = await ask(`!run fibsum-map ${await addText('{"i": 90}')}`);
    expect(JSON.parse(body.split('\n')[0] as string)).toBe('2880067194370816120');
  });

  it('lists the engines, Docker ones included, in !help', async () => {
    const body = await ask('!help');
    expect(body).toContain('fibsum-docker');
    expect(body).toContain('sha256');
  });
});
