/**
 * The sandbox's hand-written check of its parent's messages gives zod's answer: every
 * message the schema takes, it takes as is; every one the schema refuses, it refuses.
 */
import { describe, expect, it } from 'vitest';
import { parentMessageSchema, parseParentMessage } from '../../../src/engines/ivm/protocol.ts';

const run = () => ({
  type: 'run',
  id: 7,
  engine: 'wordcount',
  cid: 'bafy-engine',
  code: 'function main() {}',
  inputKind: 'bytes',
  input: new Uint8Array([1, 2, 3]),
  params: { mode: 'fast' } as Record<string, unknown>,
  limits: { memoryMb: 64, cpuMs: 1000, wallMs: 2000, maxOutputBytes: 0 } as Record<string, unknown>,
});

type Msg = Record<string, unknown>;
const without = (m: Msg, key: string) => {
  const copy = { ...m };
  delete copy[key];
  return copy;
};

const variants: [string, unknown][] = [
  ['a run', run()],
  ['a cancel', { type: 'cancel', id: 3 }],
  ['json input kind', { ...run(), inputKind: 'json' }],
  ['no params', { ...run(), params: {} }],
  ['null', null],
  ['a string', 'run'],
  ['an array', [run()]],
  ['an unknown type', { ...run(), type: 'walk' }],
  ['a cancel with more', { type: 'cancel', id: 3, engine: 'x' }],
  ['a cancel with a bad id', { type: 'cancel', id: -1 }],
  ['an extra key', { ...run(), extra: 1 }],
  ['a fractional id', { ...run(), id: 1.5 }],
  ['a string id', { ...run(), id: '7' }],
  ['an empty cid', { ...run(), cid: '' }],
  ['a numeric engine', { ...run(), engine: 5 }],
  ['code that is not text', { ...run(), code: null }],
  ['a bad input kind', { ...run(), inputKind: 'text' }],
  ['input as an array', { ...run(), input: [1, 2, 3] }],
  ['input as a Buffer', { ...run(), input: Buffer.from('abc') }],
  ['a numeric param', { ...run(), params: { n: 5 } }],
  ['params as an array', { ...run(), params: ['a'] }],
  ['params null', { ...run(), params: null }],
  ['limits with more', { ...run(), limits: { ...run().limits, gpu: 1 } }],
  ['a small heap', { ...run(), limits: { ...run().limits, memoryMb: 4 } }],
  ['a zero CPU limit', { ...run(), limits: { ...run().limits, cpuMs: 0 } }],
  ['a fractional wall limit', { ...run(), limits: { ...run().limits, wallMs: 1.5 } }],
  ['a negative output cap', { ...run(), limits: { ...run().limits, maxOutputBytes: -1 } }],
  ['a string limit', { ...run(), limits: { ...run().limits, cpuMs: '5' } }],
  ...['id', 'engine', 'cid', 'code', 'inputKind', 'input', 'params', 'limits'].map(
    (key): [string, unknown] => [`no ${key}`, without(run(), key)],
  ),
  ...['memoryMb', 'cpuMs', 'wallMs', 'maxOutputBytes'].map((key): [string, unknown] => [
    `no ${key}`,
    { ...run(), limits: without(run().limits, key) },
  ]),
];

describe('parseParentMessage', () => {
  it.each(variants)('agrees with the schema on %s', (_name, message) => {
    const schema = parentMessageSchema.safeParse(message);
    const parsed = parseParentMessage(message);
    expect(typeof parsed !== 'string', String(parsed)).toBe(schema.success);
    if (schema.success) expect(parsed).toEqual(schema.data);
  });

  it('accepts at least the well-formed messages', () => {
    expect(parseParentMessage(run())).toEqual(run());
    expect(parseParentMessage({ type: 'cancel', id: 0 })).toEqual({ type: 'cancel', id: 0 });
  });
});
