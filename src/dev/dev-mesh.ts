import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Bot, startBot } from '../../bots/meshbot.ts';
import { addFile } from '../cli/add.ts';
import { parseConfig } from '../config/load.ts';
import { BUILTIN_ENGINES_DIR } from '../config/schema.ts';
import { TimeoutError } from '../errors/index.ts';
import { createHomeserver, type Homeserver } from '../homeserver/index.ts';
import type { RoomId } from '../ids.ts';
import type { Logger } from '../log/logger.ts';
import { EVENT } from '../protocol/events.ts';
import { MESH_EVENT } from '../protocol/manager.ts';

/** The event power levels a mesh room needs: nodes send these state events at level 0. */
export const MESH_ROOM_LEVELS = {
  [EVENT.node]: 0,
  [MESH_EVENT.lease]: 0,
  [MESH_EVENT.settings]: 0,
};

import { DevAccounts } from './accounts.ts';
import { type Person, startPerson } from './person.ts';

export interface DevMeshOptions {
  /** Where the mesh keeps its state (accounts, room, each bot's data). */
  dir: string;
  /** Number of bots. Default 2. */
  bots?: number;
  log: Logger;
  /** A homeserver already started (tests); else the embedded default one is started. */
  homeserver?: Homeserver;
  /** Prefix of the account names, so several meshes can share a homeserver. */
  prefix?: string;
  /** Config keys every bot gets on top of the dev defaults (e.g. shorter limits in tests). */
  botConfig?: Record<string, unknown>;
  /** Config keys for one bot (by number, from 1), over botConfig (top-level keys replace). */
  perBot?: Record<number, Record<string, unknown>>;
}

export interface DevMesh {
  homeserver: Homeserver;
  person: Person;
  personPassword: string;
  roomId: string;
  bots: Bot[];
  /** CID of the wordcount engine's sample text, added to the first bot's store. */
  sampleCid: string;
  /** Adds a file to one bot's store (default the first) and returns its CID. */
  add(file: string, bot?: number): Promise<string>;
  stop(): Promise<void>;
}

/** A person, N bots and a mesh room on one homeserver: what `meshbot dev` runs. */
export async function startDevMesh(opts: DevMeshOptions): Promise<DevMesh> {
  const prefix = opts.prefix ?? '';
  const ownsHs = !opts.homeserver;
  const hs = opts.homeserver ?? createHomeserver({ name: 'dev' });
  const cleanup: (() => Promise<void>)[] = [];
  try {
    if (ownsHs) {
      await hs.start();
      cleanup.push(() => hs.stop());
    }
    const accounts = new DevAccounts(join(opts.dir, 'accounts.json'));
    await accounts.load();
    const me = await accounts.register(hs, `${prefix}demo`);
    const bots: Bot[] = [];
    for (let i = 1; i <= (opts.bots ?? 2); i++) {
      const acct = await accounts.register(hs, `${prefix}meshbot${i}`);
      const config = await parseConfig({
        ...opts.botConfig,
        ...opts.perBot?.[i],
        homeserver: { url: hs.url, accessToken: acct.accessToken },
        owner: me.userId,
        dataDir: join(opts.dir, `bot${i}`),
      });
      const bot = await startBot(config, opts.log.child({ bot: i }));
      cleanup.push(() => bot.stop());
      bots.push(bot);
    }
    const person = await startPerson(hs.url, me.userId, me.accessToken);
    cleanup.push(async () => person.stop());
    const roomId = await ensureRoom(opts.dir, person, bots);
    const add = (file: string, bot = 0) => addFile(join(opts.dir, `bot${bot + 1}`), file);
    const sampleCid = await add(join(BUILTIN_ENGINES_DIR, 'wordcount', 'sample.txt'));
    const stop = async () => {
      for (const c of cleanup.reverse()) await c().catch(() => {});
      cleanup.length = 0;
    };
    return {
      homeserver: hs,
      person,
      personPassword: accounts.password(`${prefix}demo`),
      roomId,
      bots,
      sampleCid,
      add,
      stop,
    };
  } catch (err) {
    for (const c of cleanup.reverse()) await c().catch(() => {});
    throw err;
  }
}

/** The mesh room: created on the first run, reused after; every bot invited and joined. */
async function ensureRoom(dir: string, person: Person, bots: Bot[]): Promise<string> {
  const file = join(dir, 'room.json');
  let roomId: string | undefined;
  try {
    roomId = (JSON.parse(await readFile(file, 'utf8')) as { roomId: string }).roomId;
    await person.client.joinRoom(roomId);
  } catch {
    // Nodes announce themselves and hold the coordinator's lease with state events; members
    // may send both in a mesh room.
    roomId = await person.createRoom('meshbot dev mesh', { eventLevels: MESH_ROOM_LEVELS });
    await writeFile(file, JSON.stringify({ roomId }));
  }
  const { joined } = await person.client.getJoinedRoomMembers(roomId);
  for (const bot of bots) {
    if (joined[bot.userId]) continue;
    await person.client.invite(roomId, bot.userId);
    await person.waitForJoin(roomId, bot.userId, 30_000);
  }
  await waitForMesh(roomId, bots, 30_000);
  return roomId;
}

/** Waits until every bot sees every bot as a node, so they agree on the coordinator. */
export async function waitForMesh(roomId: string, bots: Bot[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const room = roomId as RoomId;
  while (!bots.every((b) => b.node.nodesIn(room).length === bots.length)) {
    if (Date.now() > deadline)
      throw new TimeoutError(`the mesh did not form within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
