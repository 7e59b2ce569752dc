import type { CID } from 'multiformats/cid';
import { describe, expect, it } from 'vitest';
import { DAG_JSON } from '../../../src/store/cid.ts';
import { createMemoryStore } from '../../../src/store/memory.ts';

/** A root over three nodes over two leaves each, as dag-json. */
async function tree(store: ReturnType<typeof createMemoryStore>) {
  const middles: CID[] = [];
  for (let m = 0; m < 3; m++) {
    middles.push(
      await store.putDag({ leaves: [await store.putDag(`${m}a`), await store.putDag(`${m}b`)] }),
    );
  }
  return { root: await store.putDag({ middles }), middles };
}

describe('collecting a DAG', () => {
  it('throws past maxBlocks, or with `partial` lists the first ones, breadth-first', async () => {
    const store = createMemoryStore();
    const { root, middles } = await tree(store);
    await expect(store.collect(root, { maxBlocks: 4 })).rejects.toMatchObject({
      code: 'TOO_LARGE',
    });
    expect(await store.collect(root, { maxBlocks: 4, partial: true })).toEqual([root, ...middles]);
  });

  it('with `partial` and offline, leaves out a block missing here and what is below it', async () => {
    const store = createMemoryStore();
    const { root, middles } = await tree(store);
    const gone = middles[1] as CID;
    await store.deleteBlock(gone);
    await expect(store.collect(root, { offline: true })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    const listed = await store.collect(root, { offline: true, partial: true });
    expect(listed).toHaveLength(1 + 2 + 4);
    expect(listed.map(String)).not.toContain(gone.toString());
    expect(listed.every((c) => c.code === DAG_JSON)).toBe(true);
  });
});
