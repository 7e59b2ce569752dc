/**
 * A pipeline's outputs are read without holding up its room's evaluation: a large one is its
 * CID without a read, a local one is read at once, any other is fetched in the background
 * (the room is evaluated again when it is in), and one no node can give ends its pipeline
 * after a few tries, with the reason. A real memory store, with a fetcher the test controls.
 */
import { describe, expect, it } from 'vitest';
import { MAX_STAGE_VALUE_BYTES } from '../../../src/evaluator/stage-output.ts';
import type { RoomId } from '../../../src/ids.ts';
import { silentLogger } from '../../../src/log/logger.ts';
import type { NodeContext } from '../../../src/node/context.ts';
import { StageOutputs } from '../../../src/node/stage-outputs.ts';
import { createMemoryStore } from '../../../src/store/memory.ts';

const ROOM = '!mesh:hs' as RoomId;
const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

function setup() {
  const store = createMemoryStore();
  const elsewhere = createMemoryStore();
  let serving = false;
  let asked = 0;
  store.addFetcher({
    name: 'test',
    async fetch(cid) {
      asked++;
      if (!serving) throw new Error('no node has it');
      return elsewhere.getBlock(cid);
    },
  });
  const ctx = {
    store,
    config: { limits: { fetchTimeoutMs: 1000 } },
    signal: new AbortController().signal,
    log: silentLogger,
  } as unknown as NodeContext;
  const arrived: RoomId[] = [];
  let now = 1_000_000;
  const outputs = new StageOutputs(ctx, (room) => arrived.push(room), { now: () => now });
  const settle = () => new Promise((r) => setTimeout(r, 50));
  return {
    ...{ store, elsewhere, outputs, arrived, settle },
    serve: () => {
      serving = true;
    },
    asked: () => asked,
    later: (ms: number) => {
      now += ms;
    },
  };
}

describe('stage outputs', () => {
  it('are their CID when their worker said they are large, with nothing read', async () => {
    const { outputs, asked } = setup();
    const result = 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy';
    const value = await outputs.read(ROOM, result, MAX_STAGE_VALUE_BYTES + 1);
    expect(value).toEqual({ cid: result });
    expect(asked()).toBe(0);
  });

  it('are read at once when they are here', async () => {
    const { store, outputs, asked } = setup();
    const result = (await store.addBytes(json([1, 2]))).toString();
    expect(await outputs.read(ROOM, result)).toEqual([1, 2]);
    expect(asked()).toBe(0);
  });

  it('are fetched in the background, and the room is evaluated again when one is in', async () => {
    const { elsewhere, outputs, arrived, serve, settle } = setup();
    const result = (await elsewhere.addBytes(json({ a: 1 }))).toString();
    serve();
    expect(await outputs.read(ROOM, result)).toBeUndefined();
    await settle();
    expect(arrived).toEqual([ROOM]);
    expect(await outputs.read(ROOM, result)).toEqual({ a: 1 });
  });

  it('end their pipeline, with the reason, when no node can give them after five tries', async () => {
    const { elsewhere, outputs, asked, later, settle } = setup();
    const result = (await elsewhere.addBytes(json('gone'))).toString();
    for (let tries = 1; tries <= 5; tries++) {
      if (tries > 1) {
        // Not again before the wait, which doubles: 5 s, 10 s, ...
        expect(await outputs.read(ROOM, result)).toBeUndefined();
        expect(asked()).toBe(tries - 1);
        later(5_000 * 2 ** (tries - 2));
      }
      expect(await outputs.read(ROOM, result)).toBeUndefined();
      await settle();
      expect(asked()).toBe(tries);
    }
    await expect(outputs.read(ROOM, result)).rejects.toThrow(
      `no node could give the output ${result} (block ${result} not found (test: no node has it))`,
    );
  });
});
