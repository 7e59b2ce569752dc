import { describe, expect, it } from 'vitest';
import { BadInputError } from '../../../src/errors/index.ts';
import { replicasOf } from '../../../src/node/trust-text.ts';

describe('replicas=k on a !run', () => {
  it('is taken out of the engine parameters', () => {
    expect(replicasOf({ replicas: '3', lang: 'de' }, 5)).toEqual({
      replicas: 3,
      params: { lang: 'de' },
    });
    expect(replicasOf({ lang: 'de' }, 5)).toEqual({ params: { lang: 'de' } });
  });

  it('refuses what is not a whole number from 1 to the limit, saying so', () => {
    for (const bad of ['0', '6', 'two', '1.5', '-1', '']) {
      const err = (() => {
        try {
          replicasOf({ replicas: bad }, 5);
        } catch (e) {
          return e;
        }
      })();
      expect(err).toBeInstanceOf(BadInputError);
      expect((err as Error).message).toMatch(/from 1 to 5/);
    }
  });
});
