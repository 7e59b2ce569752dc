/** What a pipeline's conditions see of a task's output. */
import { describe, expect, it } from 'vitest';
import { MAX_STAGE_VALUE_BYTES, stageValue } from '../../../src/evaluator/stage-output.ts';

const RESULT = 'bafkreiresult';
const bytes = (s: string) => new TextEncoder().encode(s);

describe('stageValue', () => {
  it('is the output parsed as JSON, or its text when it is not JSON', () => {
    expect(stageValue(bytes('[1,2,{"a":"b"}]'), RESULT)).toEqual([1, 2, { a: 'b' }]);
    expect(stageValue(bytes('hello'), RESULT)).toBe('hello');
  });

  it('refers to the output by CID when it is large or not UTF-8', () => {
    const large = new Uint8Array(MAX_STAGE_VALUE_BYTES + 1).fill(0x31);
    expect(stageValue(large, RESULT)).toEqual({ cid: RESULT });
    expect(stageValue(new Uint8Array([0xff, 0xfe]), RESULT)).toEqual({ cid: RESULT });
  });

  it('refers to JSON with a "/" key by CID: a leaf cannot carry it as it is', () => {
    expect(stageValue(bytes('{"/":"x"}'), RESULT)).toEqual({ cid: RESULT });
    expect(stageValue(bytes('[{"ok":{"/":{"bytes":"AA"}}}]'), RESULT)).toEqual({ cid: RESULT });
  });
});
