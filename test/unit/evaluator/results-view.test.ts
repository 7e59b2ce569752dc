/**
 * The Evaluator's view of a Results GOHO reads only what is new since the head it saw last,
 * and still reads on when garbage collection took that head since (pipelines look at it only
 * while they run, so it can be long gone).
 */
import { describe, expect, it } from 'vitest';
import { plainSession } from '../../../src/archivist/barrier.ts';
import { collectGarbage } from '../../../src/archivist/gc.ts';
import { ResultsView } from '../../../src/evaluator/results-view.ts';
import { createGoho, type LeafInput } from '../../../src/lattice/index.ts';
import { silentLogger } from '../../../src/log/logger.ts';
import { createMemoryStore } from '../../../src/store/memory.ts';

const set = (path: string, value: number): LeafInput => ({
  path,
  action: 'set',
  value,
  author: '@a:h',
});

describe('the results view', () => {
  it('reads on after the head it saw last was garbage collected', async () => {
    const store = createMemoryStore();
    const goho = await createGoho(store, { name: 'results' });
    const view = new ResultsView(goho, store);
    await goho.appendAll([set('a', 1), set('b', 2)]);
    expect(await view.update()).toBe(true);
    const seen = goho.head();
    await goho.append(set('b', 3));
    await goho.append(set('c', 4));
    const gc = await collectGarbage(plainSession(store), () => [goho.head()], silentLogger);
    expect(gc.deleted).toBeGreaterThan(0);
    expect(await store.hasBlock(seen)).toBe(false);

    expect(await view.update()).toBe(true);
    expect(Object.fromEntries(view.all)).toEqual({ a: 1, b: 3, c: 4 });
    expect(await view.update()).toBe(false);
  });
});
