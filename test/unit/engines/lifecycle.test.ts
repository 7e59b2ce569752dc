import { describe, expect, it } from 'vitest';
import { Lifecycle } from '../../../src/engines/lifecycle.ts';

/** A step that ends when the test says so, counting its calls. */
function step() {
  const s = { calls: 0, end: () => {}, fail: (_err: Error) => {} };
  const run = () => {
    s.calls++;
    return new Promise<void>((resolve, reject) => {
      s.end = resolve;
      s.fail = reject;
    });
  };
  return { s, run };
}

describe('Lifecycle', () => {
  it('joins a start on its way, and starts once', async () => {
    const life = new Lifecycle();
    const up = step();
    const a = life.start(up.run);
    const b = life.start(up.run);
    expect(life.started).toBe(false);
    up.s.end();
    await Promise.all([a, b]);
    expect(up.s.calls).toBe(1);
    expect(life.started).toBe(true);
    await life.start(up.run);
    expect(up.s.calls).toBe(1);
  });

  it('is stopped after a start that fails, and can start again', async () => {
    const life = new Lifecycle();
    const up = step();
    const a = life.start(up.run);
    up.s.fail(new Error('no engine'));
    await expect(a).rejects.toThrow('no engine');
    expect(life.started).toBe(false);
    const again = life.start(up.run);
    up.s.end();
    await again;
    expect(up.s.calls).toBe(2);
    expect(life.started).toBe(true);
  });

  it('runs the synchronous part of a stop at once, and stops once', async () => {
    const life = new Lifecycle();
    await life.start(async () => {});
    let aborted = false;
    const down = step();
    const stopping = life.stop(() => {
      aborted = true;
      return down.run();
    });
    expect(aborted).toBe(true);
    expect(life.started).toBe(false);
    const second = life.stop(down.run);
    down.s.end();
    await Promise.all([stopping, second]);
    expect(down.s.calls).toBe(1);
    await life.stop(down.run);
    expect(down.s.calls).toBe(1);
  });

  it('a stop during a start waits for it, then stops what started', async () => {
    const life = new Lifecycle();
    const up = step();
    const order: string[] = [];
    const starting = life.start(async () => {
      await up.run();
      order.push('up');
    });
    const stopping = life.stop(async () => {
      order.push('down');
    });
    up.s.end();
    await Promise.all([starting, stopping]);
    expect(order).toEqual(['up', 'down']);
    expect(life.started).toBe(false);
  });

  it('a stop during a start that fails does nothing more', async () => {
    const life = new Lifecycle();
    const up = step();
    let downs = 0;
    const starting = life.start(up.run);
    const stopping = life.stop(async () => {
      downs++;
    });
    up.s.fail(new Error('no engine'));
    await expect(starting).rejects.toThrow('no engine');
    await stopping;
    expect(downs).toBe(0);
  });

  it('starts during a stop start once, after the stop', async () => {
    const life = new Lifecycle();
    await life.start(async () => {});
    const down = step();
    const stopping = life.stop(down.run);
    let ups = 0;
    const a = life.start(async () => {
      ups++;
    });
    const b = life.start(async () => {
      ups++;
    });
    down.s.end();
    await Promise.all([stopping, a, b]);
    expect(ups).toBe(1);
    expect(life.started).toBe(true);
  });

  it('is stopped after a stop that fails', async () => {
    const life = new Lifecycle();
    await life.start(async () => {});
    await expect(life.stop(async () => Promise.reject(new Error('reap failed')))).rejects.toThrow(
      'reap failed',
    );
    expect(life.started).toBe(false);
    await life.start(async () => {});
    expect(life.started).toBe(true);
  });

  it('a start asked for after a stop that waits for a start ends started (the last word wins)', async () => {
    const life = new Lifecycle();
    const up = step();
    let ups = 0;
    let downs = 0;
    const starting = life.start(async () => {
      ups++;
      await up.run();
    });
    const stopping = life.stop(async () => {
      downs++;
    });
    const again = life.start(async () => {
      ups++;
    });
    up.s.end();
    await Promise.all([starting, stopping, again]);
    expect(downs).toBe(1);
    expect(ups).toBe(2);
    expect(life.started).toBe(true);
  });
});
