import { CarWriter } from '@ipld/car';
import type { CID } from 'multiformats/cid';
import { encodeInline, inlineSize } from '../blocks/codec.ts';
import type { Goho } from '../lattice/types.ts';
import type { InlineBlock } from '../protocol/events.ts';
import type { HeadEntry, HeadsEvent } from '../protocol/hpcp.ts';
import type { RoomHpcpDeps } from './types.ts';

/** Inline blocks stay well under the 65,536-byte event limit. */
const INLINE_BUDGET = 30_000;
const MULTIADDR = /^\/(ip4|ip6|dns4|dns6)\/[^/]+\/tcp\/\d+\/p2p\/[a-zA-Z0-9]+$/;

export interface Outgoing {
  goho: Goho;
  /** A head peers are likely to hold: only blocks added since it are attached. */
  prev?: CID;
}

/**
 * The content of a heads announcement: each GOHO's head, and the blocks added since `prev`
 * inline when they fit, else as a CAR file in the media repository (roots stay inline, so
 * a peer can start reading at once). Reads only local blocks.
 */
export async function headsContent(
  d: RoomHpcpDeps,
  out: readonly Outgoing[],
  reason: HeadsEvent['reason'],
): Promise<HeadsEvent> {
  const heads: HeadEntry[] = [];
  const roots: CID[] = [];
  const rest: CID[] = [];
  for (const { goho, prev } of out) {
    const head = goho.head();
    const known = prev && !prev.equals(head) && (await d.store.hasBlock(prev)) ? prev : undefined;
    const delta = known ? await localDelta(goho, known) : undefined;
    const usable = delta ? known : undefined;
    heads.push({
      origin: goho.origin().toString(),
      head: head.toString(),
      size: goho.size(),
      ...(usable ? { prev: usable.toString() } : {}),
    });
    roots.push(head);
    rest.push(...(delta ?? [head]).filter((c) => !c.equals(head)));
  }
  const addrs = (d.network?.addresses() ?? []).filter((a) => MULTIADDR.test(a)).slice(0, 8);
  const all = await read(d, [...roots, ...rest]);
  const size = all.reduce((n, b) => n + inlineSize(b.bytes), 0);
  if (size <= INLINE_BUDGET) {
    return { heads, blocks: all.map((b) => encodeInline(b.cid, b.bytes)), addrs, reason };
  }
  const inline: InlineBlock[] = all.slice(0, roots.length).map((b) => encodeInline(b.cid, b.bytes));
  if (size > d.options.maxCarBytes) return { heads, blocks: inline, addrs, reason };
  const car = await d.client.upload(await toCar(all), 'application/vnd.ipld.car', d.signal);
  return { heads, blocks: inline, car, addrs, reason };
}

/**
 * The blocks `goho` added since `prev`, read from this node's blocks alone; undefined when
 * some are not here. `prev` may be a head whose root came inline in a peer's announcement
 * and whose trie never arrived: fetching it would hold the room's send queue for the whole
 * fetch budget (20 s) and then throw, and the head would never be announced. Without a
 * `prev`, peers get the head's root and fetch what they lack.
 */
async function localDelta(goho: Goho, prev: CID): Promise<CID[] | undefined> {
  try {
    return (await goho.since(prev, { offline: true })).blocks;
  } catch (err) {
    if ((err as { code?: unknown } | null)?.code === 'NOT_FOUND') return undefined;
    throw err;
  }
}

async function read(d: RoomHpcpDeps, cids: CID[]): Promise<{ cid: CID; bytes: Uint8Array }[]> {
  const out: { cid: CID; bytes: Uint8Array }[] = [];
  const seen = new Set<string>();
  for (const cid of cids) {
    if (seen.has(cid.toString())) continue;
    seen.add(cid.toString());
    out.push({ cid, bytes: await d.store.getBlock(cid, { offline: true }) });
  }
  return out;
}

export async function toCar(blocks: { cid: CID; bytes: Uint8Array }[]): Promise<Uint8Array> {
  const { writer, out } = CarWriter.create(
    blocks.length > 0 ? [(blocks[0] as { cid: CID }).cid] : [],
  );
  const chunks: Uint8Array[] = [];
  const reading = (async () => {
    for await (const c of out) chunks.push(c);
  })();
  for (const b of blocks) await writer.put(b);
  await writer.close();
  await reading;
  return new Uint8Array(Buffer.concat(chunks));
}
