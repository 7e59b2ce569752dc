/**
 * The hand-written checks of the sandbox protocol give zod's answer: every message the
 * schema takes, they take as is; every one the schema refuses, they refuse.
 */
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { childMessageSchema, parentMessageSchema } from '../../../src/engines/ivm/protocol.ts';
import { parseChildMessage, parseParentMessage } from '../../../src/engines/ivm/wire-check.ts';

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

/** One test per message: the check takes it as the schema does, or refuses it as it does. */
function agreesWith(
  schema: z.ZodType,
  check: (raw: unknown) => unknown,
  messages: [string, unknown][],
): void {
  it.each(messages)('agrees with the schema on %s', (_name, message) => {
    const expected = schema.safeParse(message);
    const parsed = check(message);
    expect(typeof parsed !== 'string', String(parsed)).toBe(expected.success);
    if (expected.success) expect(parsed).toEqual(expected.data);
  });
}

describe('parseParentMessage', () => {
  agreesWith(parentMessageSchema, parseParentMessage, variants);

  it('accepts at least the well-formed messages', () => {
    expect(parseParentMessage(run())).toEqual(run());
    expect(parseParentMessage({ type: 'cancel', id: 0 })).toEqual({ type: 'cancel', id: 0 });
  });
});

const done = () => ({
  type: 'done',
  id: 7,
  output: new Uint8Array([1, 2]),
  logs: ['a line'] as unknown[],
  cpuMs: 1.5,
});
const failed = (error: Record<string, unknown> = { code: 'ENGINE_FAILED', message: 'boom' }) => ({
  type: 'failed',
  id: 7,
  error,
  logs: [] as unknown[],
});
const sparse: unknown[] = [];
sparse[2] = 'x';

const childVariants: [string, unknown][] = [
  ['a done', done()],
  ['a done with no logs or output', { ...done(), logs: [], output: new Uint8Array(0), cpuMs: 0 }],
  ['a done with a Buffer', { ...done(), output: Buffer.from('x') }],
  ['a failed', failed()],
  ['a failed with a limit', failed({ code: 'ENGINE_TIMEOUT', message: 'slow', limit: 'wall' })],
  [
    'a failed with limit undefined',
    failed({ code: 'ENGINE_TIMEOUT', message: '', limit: undefined }),
  ],
  ['a progress', { type: 'progress', id: 1, fraction: 0.5 }],
  ['a progress at 0', { type: 'progress', id: 1, fraction: 0 }],
  ['a progress at 1', { type: 'progress', id: 1, fraction: 1 }],
  ['a ready', { type: 'ready', pid: 1234 }],
  ['a ready with a negative pid', { type: 'ready', pid: -1 }],
  ['null', null],
  ['a number', 5],
  ['an array', [done()]],
  ['no type', { ...done(), type: undefined }],
  ['an unknown type', { ...done(), type: 'run' }],
  ['a done with more', { ...done(), extra: 1 }],
  ['a done with an undefined extra key', { ...done(), extra: undefined }],
  ['a done with a negative id', { ...done(), id: -1 }],
  ['a done with a fractional id', { ...done(), id: 0.5 }],
  ['a done with a huge id', { ...done(), id: 2 ** 60 }],
  ['a done with a string id', { ...done(), id: '7' }],
  ['output as text', { ...done(), output: 'x' }],
  ['output as an array', { ...done(), output: [1] }],
  ['output as an ArrayBuffer', { ...done(), output: new ArrayBuffer(2) }],
  ['a negative cpuMs', { ...done(), cpuMs: -1 }],
  ['an infinite cpuMs', { ...done(), cpuMs: Number.POSITIVE_INFINITY }],
  ['a NaN cpuMs', { ...done(), cpuMs: Number.NaN }],
  ['a string cpuMs', { ...done(), cpuMs: '1' }],
  ['logs that are text', { ...done(), logs: 'a line' }],
  ['a log line that is a number', { ...done(), logs: ['a', 2] }],
  ['sparse logs', { ...done(), logs: sparse }],
  ['a log line at the cap', { ...done(), logs: ['x'.repeat(70_000)] }],
  ['a log line over the cap', { ...done(), logs: ['x'.repeat(70_001)] }],
  ['logs at the line cap', { ...done(), logs: Array(201).fill('l') }],
  ['logs over the line cap', { ...done(), logs: Array(202).fill('l') }],
  ...['id', 'output', 'logs', 'cpuMs'].map((key): [string, unknown] => [
    `a done without ${key}`,
    without(done(), key),
  ]),
  ...['id', 'error', 'logs'].map((key): [string, unknown] => [
    `a failed without ${key}`,
    without(failed(), key),
  ]),
  ['an unknown error code', failed({ code: 'ENGINE_ESCAPED', message: 'x' })],
  ['an error code that is a number', failed({ code: 1, message: 'x' })],
  ['an error with no message', failed({ code: 'ENGINE_FAILED' })],
  ['an error message over the cap', failed({ code: 'ENGINE_FAILED', message: 'x'.repeat(10_001) })],
  ['an error with a bad limit', failed({ code: 'ENGINE_TIMEOUT', message: 'x', limit: 'gpu' })],
  [
    'a timeout with the CPU it used',
    failed({ code: 'ENGINE_TIMEOUT', message: 'x', limit: 'wall', cpuUsedMs: 12.5 }),
  ],
  ['a negative CPU used', failed({ code: 'ENGINE_TIMEOUT', message: 'x', cpuUsedMs: -1 })],
  ['a NaN CPU used', failed({ code: 'ENGINE_TIMEOUT', message: 'x', cpuUsedMs: Number.NaN })],
  ['a CPU used as text', failed({ code: 'ENGINE_TIMEOUT', message: 'x', cpuUsedMs: '1' })],
  ['an error with more', failed({ code: 'ENGINE_FAILED', message: 'x', stack: 'at' })],
  ['an error that is text', { ...failed(), error: 'ENGINE_FAILED' }],
  ['a progress over 1', { type: 'progress', id: 1, fraction: 1.01 }],
  ['a progress under 0', { type: 'progress', id: 1, fraction: -0.1 }],
  ['a NaN progress', { type: 'progress', id: 1, fraction: Number.NaN }],
  ['a progress with more', { type: 'progress', id: 1, fraction: 0.5, extra: true }],
  ['a progress without id', { type: 'progress', fraction: 0.5 }],
  ['a ready with a fractional pid', { type: 'ready', pid: 1.5 }],
  ['a ready with more', { type: 'ready', pid: 1, id: 2 }],
  ['a ready without pid', { type: 'ready' }],
];

describe('parseChildMessage', () => {
  agreesWith(childMessageSchema, parseChildMessage, childVariants);

  it('refuses what is not a plain object, where the schema is laxer', () => {
    class Message {
      type = 'ready';
      pid = 1;
    }
    expect(parseChildMessage(new Message())).toBe('not an object');
  });
});
