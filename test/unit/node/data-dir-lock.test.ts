/**
 * A node and `meshbot gc` may share a data dir from two containers (a volume mounted in both):
 * each process has its own pid namespace, so a pid read from the other's file names nothing
 * here, or some other process, or this very process (both are pid 1 in their containers).
 * The file its holder keeps fresh says it runs, whatever its pid.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rm,
  stat,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { claim, holder, startTimeOf } from '../../../src/node/data-dir-lock.ts';
import { claimNode, takeOver } from '../../../src/node/node-claim.ts';
import { collectDataDir } from '../../../src/node/offline-gc.ts';

const dataDir = async () => {
  const dir = await mkdtemp(join(tmpdir(), 'meshbot-lock-'));
  await mkdir(join(dir, 'store'));
  return dir;
};

/** A process of another pid namespace wrote this file just now (and keeps it fresh). */
const otherNamespace = (dir: string, who: string, pid: number) =>
  writeFile(join(dir, `${who}.pid`), `${pid}\nan-instance-of-another-container\n`);

const age = async (dir: string, who: string, minutes: number) => {
  const then = new Date(Date.now() - minutes * 60_000);
  await utimes(join(dir, `${who}.pid`), then, then);
};

describe('the data dir pid files across pid namespaces', () => {
  it('meshbot gc refuses beside a node of another container that has its own pid', async () => {
    const dir = await dataDir();
    // Both are pid 1 in their containers: here, the node's pid is this process's.
    await otherNamespace(dir, 'node', process.pid);
    await expect(collectDataDir(dir)).rejects.toMatchObject({ code: 'DATA_DIR_BUSY' });
  });

  it('meshbot gc refuses beside a node of another container whose pid names nothing here', async () => {
    const dir = await dataDir();
    // A pid past any the kernel gives out in this namespace.
    await otherNamespace(dir, 'node', 4194399);
    await expect(collectDataDir(dir)).rejects.toMatchObject({ code: 'DATA_DIR_BUSY' });
  });

  it('the node sees a collection of another container', async () => {
    const dir = await dataDir();
    await otherNamespace(dir, 'gc', 4194399);
    expect(await holder(dir, 'gc')).toBe(4194399);
  });

  it('a file left by a process that died (no longer kept fresh) is stale', async () => {
    const dir = await dataDir();
    await otherNamespace(dir, 'node', 4194399);
    await age(dir, 'node', 10);
    expect(await holder(dir, 'node')).toBeUndefined();
    await otherNamespace(dir, 'node', process.pid);
    await age(dir, 'node', 10);
    expect(await holder(dir, 'node')).toBeUndefined();
  });

  it('is kept fresh by its holder, and is not a holder to itself', async () => {
    const dir = await dataDir();
    const release = await claim(dir, 'node', { refreshMs: 20 });
    expect(await holder(dir, 'node')).toBeUndefined();
    await age(dir, 'node', 10);
    // Ten minutes old now: fresh again once its holder touched it.
    await vi.waitFor(
      async () =>
        expect(Date.now() - (await stat(join(dir, 'node.pid'))).mtimeMs).toBeLessThan(60_000),
      { timeout: 10_000, interval: 20 },
    );
    await release();
  });
});

describe('one node per data dir', () => {
  /** A pid file as a node of this pid namespace (or of `namespace`) writes it. */
  const nodeFile = async (dir: string, pid: number, namespace?: string, started?: string) => {
    const ns = namespace ?? (await readlink('/proc/self/ns/pid'));
    const text = `${pid}\nanother-node\n${ns}\n${started === undefined ? '' : `${started}\n`}`;
    await writeFile(join(dir, 'node.pid'), text);
  };
  /** A process that runs until killed, and one that has exited (its pid names nothing now). */
  const running = () => spawn('sleep', ['60'], { stdio: 'ignore' });
  const exited = async () => {
    const p = spawn('true', { stdio: 'ignore' });
    await once(p, 'exit');
    return p.pid as number;
  };

  it('refuses a second node while the first runs, and takes the dir once it stopped', async () => {
    const dir = await dataDir();
    const release = await claimNode(dir);
    // This process's own file is not another node's; a second process's claim sees it.
    const child = running();
    try {
      await nodeFile(dir, child.pid as number);
      const refused = claimNode(dir, { watchMs: 50 });
      await expect(refused).rejects.toMatchObject({ code: 'DATA_DIR_BUSY' });
      await expect(refused).rejects.toThrow(/another node \(pid \d+\) is running on/);
    } finally {
      child.kill();
    }
    await once(child, 'exit');
    // Its node is gone: a node restarted after a crash takes the dir at once, without first
    // watching the file for a refresh (which would take the whole `watchMs`).
    const watchMs = 20_000;
    const started = performance.now();
    const again = await claimNode(dir, { watchMs });
    expect(performance.now() - started).toBeLessThan(watchMs / 2);
    expect((await readFile(join(dir, 'node.pid'), 'utf8')).split('\n')[0]).toBe(`${process.pid}`);
    await again();
    await release();
  });

  it('takes over the file of a node of this namespace that died, or one nobody kept fresh', async () => {
    const dir = await dataDir();
    await nodeFile(dir, await exited());
    await (await claimNode(dir, { watchMs: 5_000 }))();
    await nodeFile(dir, 4194399, 'pid:[another]');
    await age(dir, 'node', 10);
    await (await claimNode(dir, { watchMs: 5_000 }))();
  });

  it('keeps the dir of a node of this namespace paused past STALE_MS, not of a pid reused since', async () => {
    const dir = await dataDir();
    const child = running();
    try {
      const pid = child.pid as number;
      await vi.waitFor(() => expect(startTimeOf(pid)).not.toBe(''));
      // Stopped (Ctrl-Z, `docker pause`) for ten minutes: its file is stale, its process the same.
      await nodeFile(dir, pid, undefined, startTimeOf(pid));
      await age(dir, 'node', 10);
      await expect(claimNode(dir, { watchMs: 50 })).rejects.toMatchObject({
        code: 'DATA_DIR_BUSY',
      });
      // The pid of a node that died, given to another process since (a reboot, say).
      await nodeFile(dir, pid, undefined, '1');
      await age(dir, 'node', 10);
      await (await claimNode(dir, { watchMs: 50 }))();
      // A file of a version that wrote no start time: judged by its age alone.
      await nodeFile(dir, pid);
      await age(dir, 'node', 10);
      await (await claimNode(dir, { watchMs: 50 }))();
    } finally {
      child.kill();
    }
  });

  it('writes its start time in its file', async () => {
    const dir = await dataDir();
    const release = await claimNode(dir);
    const text = await readFile(join(dir, 'node.pid'), 'utf8');
    expect(text.split('\n')[3]).toBe(startTimeOf(process.pid));
    expect(startTimeOf(process.pid)).toMatch(/^\d+$/);
    await release();
  });

  it('watches the file of a node of another namespace: refused if it is kept fresh, else taken', async () => {
    const dir = await dataDir();
    await nodeFile(dir, 1, 'pid:[another]');
    const fresh = setInterval(() => {
      const now = new Date();
      utimes(join(dir, 'node.pid'), now, now).catch(() => {});
    }, 50);
    try {
      await expect(claimNode(dir, { watchMs: 1_000 })).rejects.toMatchObject({
        code: 'DATA_DIR_BUSY',
      });
    } finally {
      clearInterval(fresh);
    }
    // Its holder stopped refreshing it (it crashed): taken once the watch saw no refresh.
    await nodeFile(dir, 1, 'pid:[another]');
    const started = performance.now();
    const release = await claimNode(dir, { watchMs: 600 });
    expect(performance.now() - started).toBeGreaterThanOrEqual(550);
    await release();
  });

  /** Two node processes claim `dir` at the same instant; what each says (one that claimed
   * holds the dir until both have spoken, however late the second started). */
  const claimTogether = async (dir: string): Promise<string[]> => {
    const lock = fileURLToPath(new URL('../../../src/node/node-claim.ts', import.meta.url));
    const go = Date.now() + 1_000;
    const script =
      `const { claimNode } = await import(${JSON.stringify(lock)});` +
      `while (Date.now() < ${go}) {}` +
      `try { await claimNode(${JSON.stringify(dir)}, { watchMs: 100 }); console.log('claimed'); ` +
      'setInterval(() => {}, 1000); } catch (e) { console.log(e.code); }';
    const both = [0, 1].map(() =>
      spawn(process.execPath, ['--input-type=module', '-e', script], {
        stdio: ['ignore', 'pipe', 'inherit'],
      }),
    );
    const said = await Promise.all(
      both.map(async (p) => {
        let out = '';
        p.stdout?.on('data', (b) => {
          out += String(b);
        });
        await vi.waitFor(() => expect(out).toMatch(/\n/), { timeout: 30_000 });
        return out.trim();
      }),
    );
    for (const p of both) p.kill();
    return said.sort();
  };

  it('gives the dir to one of two node processes that start together', async () => {
    expect(await claimTogether(await dataDir())).toEqual(['DATA_DIR_BUSY', 'claimed']);
  });

  it('gives it to one of them too when they take over the file of a node that died', async () => {
    // Both judge the file gone; a second one moving it aside must not take the first's.
    for (let trial = 0; trial < 4; trial++) {
      const dir = await dataDir();
      await nodeFile(dir, await exited());
      expect(await claimTogether(dir)).toEqual(['DATA_DIR_BUSY', 'claimed']);
    }
  }, 60_000);

  it('moves aside only the file it judged gone: one another node wrote since goes back', async () => {
    const dir = await dataDir();
    const path = join(dir, 'node.pid');
    await nodeFile(dir, await exited());
    const judged = { text: await readFile(path, 'utf8'), touched: (await stat(path)).mtimeMs };
    // Another node took over first and wrote its own file.
    await nodeFile(dir, 4194399, 'pid:[another]');
    await takeOver(path, judged);
    expect((await readFile(path, 'utf8')).split('\n')[0]).toBe('4194399');
    // The file judged gone is moved out of the way, and nothing else is left behind.
    await nodeFile(dir, await exited());
    const stale = { text: await readFile(path, 'utf8'), touched: (await stat(path)).mtimeMs };
    await takeOver(path, stale);
    expect(await readdir(dir)).toEqual(['store']);
  });

  it('reads a node.pid an older version is still writing (created, not yet written)', async () => {
    const dir = await dataDir();
    const child = running();
    try {
      await writeFile(join(dir, 'node.pid'), '');
      setTimeout(() => void nodeFile(dir, child.pid as number), 100);
      await expect(claimNode(dir, { watchMs: 100 })).rejects.toMatchObject({
        code: 'DATA_DIR_BUSY',
      });
    } finally {
      child.kill();
    }
  });

  it('writes its file again when it went missing, and is not told it lost it', async () => {
    const dir = await dataDir();
    let lost = 0;
    const release = await claimNode(dir, { refreshMs: 20, onLost: () => lost++ });
    const path = join(dir, 'node.pid');
    const mine = await readFile(path, 'utf8');
    await rm(path);
    await vi.waitFor(async () => expect(await readFile(path, 'utf8')).toBe(mine));
    expect(lost).toBe(0);
    await release();
    expect(await readdir(dir)).toEqual(['store']);
  });

  it('tells its holder when another process took its file', async () => {
    const dir = await dataDir();
    let lost = 0;
    const release = await claimNode(dir, { refreshMs: 20, onLost: () => lost++ });
    await nodeFile(dir, 4194399, 'pid:[another]');
    await vi.waitFor(() => expect(lost).toBe(1));
    await release();
    // Not its file: left alone.
    expect((await readFile(join(dir, 'node.pid'), 'utf8')).split('\n')[0]).toBe('4194399');
  });
});
