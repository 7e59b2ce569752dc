/**
 * A mesh of bots running as separate processes (`meshbot start`), so tests and the failover
 * benchmark can kill -9, SIGSTOP and SIGCONT them, with a person's client in the mesh room.
 * No vitest import here: bench/failover.ts uses it too.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as dagJson from '@ipld/dag-json';
import { addFile } from '../../src/cli/add.ts';
import { MESH_ROOM_LEVELS } from '../../src/dev/dev-mesh.ts';
import { type Person, startPerson } from '../../src/dev/person.ts';
import { registerUser } from '../../src/homeserver/register.ts';
import { MESH_EVENT } from '../../src/protocol/manager.ts';

const BIN = new URL('../../bin/meshbot.js', import.meta.url).pathname;

/** `base` plus a random suffix: meshes share a homeserver, so names must not collide. */
function uniqueLocalpart(base: string): string {
  return `${base}-${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
}

export interface HomeserverAccess {
  url: string;
  secret: string;
}

export interface BotProcess {
  userId: string;
  accessToken: string;
  dataDir: string;
  logFile: string;
  proc: ChildProcess | undefined;
}

export interface ProcessMesh {
  dir: string;
  person: Person;
  roomId: string;
  bots: BotProcess[];
  /** CID of a small input every bot holds. */
  inputCid: string;
  start(i: number): Promise<void>;
  signal(i: number, sig: NodeJS.Signals): void;
  /** The coordinator's lease as the room state holds it. */
  lease(): Promise<{ holder: string; term: number } | null>;
  waitForLease(
    pred: (l: { holder: string; term: number }) => boolean,
    ms: number,
  ): Promise<{ holder: string; term: number }>;
  /** Posts a command; returns the request's event id. */
  ask(body: string): Promise<string>;
  /** Bot replies to `request` in the room's history (the server's, not what a client saw). */
  replies(request: string): Promise<Reply[]>;
  waitForReply(request: string, ms: number): Promise<Reply>;
  /** Each assignment of a request's task in the room's history. */
  assignments(
    request: string,
  ): Promise<{ worker: string; attempt: number; term: number; task: string }[]>;
  /** The room's recent events, oldest first, from the server. */
  history(): Promise<RawEvent[]>;
  stop(): Promise<void>;
}

export interface RawEvent {
  type: string;
  sender: string;
  event_id: string;
  content: Record<string, unknown>;
}

export interface Reply {
  body: string;
  sender: string;
}

export interface ProcessMeshOptions {
  name: string;
  hs: HomeserverAccess;
  bots?: number;
  /** Config keys every bot gets (e.g. short leases). */
  botConfig?: Record<string, unknown>;
  /**
   * A mesh that restricts who may run work: power level 50 to submit, and the bots are
   * nodes because every bot lists them all in `admission.nodes`. Default: every member may.
   */
  restricted?: boolean;
}

export async function startProcessMesh(opts: ProcessMeshOptions): Promise<ProcessMesh> {
  const dir = await mkdtemp(join(tmpdir(), `meshbot-${opts.name}-`));
  const prefix = uniqueLocalpart(opts.name);
  const reg = (local: string) =>
    registerUser(opts.hs, `${prefix}-${local}`, `pw-${prefix}-${local}`);
  const me = await reg('person');
  const input = join(dir, 'input.txt');
  await writeFile(input, 'one two three\n');
  const bots: BotProcess[] = [];
  for (let i = 1; i <= (opts.bots ?? 3); i++) {
    const acct = await reg(`bot${i}`);
    const dataDir = join(dir, `bot${i}`);
    await mkdir(dataDir, { recursive: true });
    bots.push({
      userId: acct.userId,
      accessToken: acct.accessToken,
      dataDir,
      logFile: join(dataDir, 'bot.log'),
      proc: undefined,
    });
  }
  // Written once every bot is registered: a restricted mesh lists all of them in each config.
  const admission = opts.restricted
    ? { admission: { powerLevel: 50, nodes: bots.map((b) => b.userId) } }
    : {};
  for (const b of bots) {
    const config = {
      ...opts.botConfig,
      ...admission,
      homeserver: { url: opts.hs.url, accessToken: b.accessToken },
      owner: me.userId,
      dataDir: b.dataDir,
    };
    await writeFile(join(b.dataDir, 'config.json'), JSON.stringify(config, null, 2));
  }
  let inputCid = '';
  for (const b of bots) inputCid = await addFile(b.dataDir, input);
  const person = await startPerson(opts.hs.url, me.userId, me.accessToken);
  const roomId = await person.createRoom(`${opts.name} mesh`, { eventLevels: MESH_ROOM_LEVELS });

  const start = async (i: number) => {
    const b = bots[i] as BotProcess;
    const log = createWriteStream(b.logFile, { flags: 'a' });
    const proc = spawn(
      process.execPath,
      [BIN, 'start', '--config', join(b.dataDir, 'config.json')],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, MESHBOT_LOG_LEVEL: 'info' },
      },
    );
    proc.stdout?.pipe(log);
    proc.stderr?.pipe(log);
    b.proc = proc;
  };
  const lease = async () => {
    try {
      const c = (await person.client.getStateEvent(roomId, MESH_EVENT.lease, '')) as {
        holder: string;
        term: number;
      };
      return c?.holder ? c : null;
    } catch {
      return null;
    }
  };
  const waitForLease = async (
    pred: (l: { holder: string; term: number }) => boolean,
    ms: number,
  ) => {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      const l = await lease();
      if (l && pred(l)) return l;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`no such lease within ${ms} ms; last: ${JSON.stringify(await lease())}`);
  };
  const isBot = (sender: string) => bots.some((b) => b.userId === sender);
  let cached: { at: number; events: RawEvent[] } | undefined;
  // The latest events only: tests look at what they just caused.
  const history = async (): Promise<RawEvent[]> => {
    if (cached && Date.now() - cached.at < 300) return cached.events;
    const newestFirst: RawEvent[] = [];
    let from: string | null = null;
    for (let page = 0; page < 2; page++) {
      const res = await person.client.createMessagesRequest(roomId, from, 300, 'b' as never);
      newestFirst.push(...(res.chunk as unknown as RawEvent[]));
      if (!res.end || res.chunk.length === 0) break;
      from = res.end;
    }
    cached = { at: Date.now(), events: newestFirst.reverse() };
    return cached.events;
  };
  const replies = async (request: string): Promise<Reply[]> =>
    (await history())
      .filter((e) => {
        const rel = e.content['m.relates_to'] as { 'm.in_reply_to'?: { event_id?: string } };
        const to = rel?.['m.in_reply_to']?.event_id;
        return e.type === 'm.room.message' && isBot(e.sender) && to === request;
      })
      .map((e) => ({ body: String(e.content.body ?? ''), sender: e.sender }));
  const mesh: ProcessMesh = {
    dir,
    person,
    roomId,
    bots,
    inputCid,
    start,
    signal: (i, sig) => bots[i]?.proc?.kill(sig),
    lease,
    waitForLease,
    ask: (body) => person.send(roomId, body),
    replies,
    history,
    async waitForReply(request, ms) {
      const deadline = Date.now() + ms;
      while (Date.now() < deadline) {
        const found = (await replies(request))[0];
        if (found) return found;
        await new Promise((r) => setTimeout(r, 400));
      }
      throw new Error(`no reply to ${request} within ${ms} ms`);
    },
    async assignments(request) {
      const out: { worker: string; attempt: number; term: number; task: string }[] = [];
      for (const e of await history()) {
        if (e.type !== 'org.meshbot.assign' || !isBot(e.sender)) continue;
        const c = e.content as {
          term: number;
          assignments?: { task: string; worker: string; attempt: number; block: string }[];
        };
        for (const a of c.assignments ?? []) {
          const task = dagJson.decode(Buffer.from(a.block, 'base64')) as { request?: string };
          if (task.request !== request) continue;
          out.push({ worker: a.worker, attempt: a.attempt, term: c.term, task: a.task });
        }
      }
      return out;
    },
    async stop() {
      for (const b of bots) b.proc?.kill('SIGKILL');
      person.stop();
    },
  };
  try {
    for (let i = 0; i < bots.length; i++) await start(i);
    for (const b of bots) {
      await person.client.invite(roomId, b.userId);
      await person.waitForJoin(roomId, b.userId, 60_000);
    }
    await waitForNodes(mesh, 60_000);
    await waitForLease(() => true, 60_000);
  } catch (err) {
    await mesh.stop();
    throw err;
  }
  return mesh;
}

/** Waits until every bot has announced itself in the room. */
async function waitForNodes(mesh: ProcessMesh, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    let all = true;
    for (const b of mesh.bots) {
      const s = await mesh.person.client
        .getStateEvent(mesh.roomId, 'org.meshbot.node', b.userId)
        .catch(() => null);
      if (!s) all = false;
    }
    if (all) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the bots did not announce themselves within ${ms} ms`);
}

/** A bot's log lines with `msg` containing `text`. */
export async function logLines(bot: BotProcess, text: string): Promise<string[]> {
  const all = await readFile(bot.logFile, 'utf8').catch(() => '');
  return all.split('\n').filter((l) => l.includes(text));
}

/** Resident memory of a bot process, in MiB. */
export async function rssMb(bot: BotProcess): Promise<number> {
  const status = await readFile(`/proc/${bot.proc?.pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
  return kb / 1024;
}
