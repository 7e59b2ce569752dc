/**
 * The room events' schemas read a newer version's events: keys they do not know, at any
 * depth, are dropped, and the event reads as it would without them. A key they know with a
 * value they do not take still refuses the event.
 */
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import {
  assignSchema,
  blocksSchema,
  completeSchema,
  nodeStateSchema,
  wantSchema,
} from '../../../src/protocol/events.ts';
import { archiveSchema, headsSchema, requestSchema } from '../../../src/protocol/hpcp.ts';
import {
  acceptSchema,
  cancelSchema,
  leaseSchema,
  renewSchema,
  replyTagSchema,
  verdictSchema,
} from '../../../src/protocol/manager.ts';

const C = 'bafkreiemkrm6e24jf7qcq366a4lendu7q7gpkvfcggfezzhdtmondmmi6i';

const samples: [string, z.ZodType, Record<string, unknown>][] = [
  [
    'node',
    nodeStateSchema,
    {
      version: '1',
      engines: [{ name: 'wordcount', cid: C, runtime: 'isolated-vm' }],
      runtimes: ['isolated-vm'],
      cores: 2,
      arch: 'x64',
      memoryMb: 1024,
      gpu: false,
      capacity: 1,
      load: 0,
      ts: 1,
      models: [{ name: 'base', sha256: 'a'.repeat(64) }],
    },
  ],
  [
    'assign',
    assignSchema,
    { term: 1, assignments: [{ task: C, worker: '@w:x', attempt: 1, block: 'AAAA' }] },
  ],
  [
    'complete',
    completeSchema,
    {
      completions: [{ task: C, attempt: 1, ok: false, error: { code: 'X', message: 'm' } }],
      blocks: [{ cid: C, data: 'AAAA' }],
    },
  ],
  ['want', wantSchema, { cids: [C], nonce: 'n' }],
  ['blocks', blocksSchema, { nonce: 'n', blocks: [{ cid: C, data: 'AA==' }], missing: [] }],
  ['head', headsSchema, { heads: [{ origin: C, head: C, size: 1 }], reason: 'change' }],
  ['head.request', requestSchema, { heads: [{ origin: C, head: C }], nonce: 'n' }],
  ['archive', archiveSchema, { owner: '@o:x', pins: [{ origin: C, head: C }] }],
  ['lease', leaseSchema, { holder: '@h:x', term: 1, leaseMs: 1000, renewal: 0 }],
  ['accept', acceptSchema, { term: 1, tasks: [{ task: C, block: 'AAAA' }] }],
  ['renew', renewSchema, { leases: [{ task: C, attempt: 1 }] }],
  ['cancel', cancelSchema, { term: 1, tasks: [C], reason: 'r' }],
  [
    'reply tag',
    replyTagSchema,
    { task: C, state: 'failed', attempt: 1, error: { code: 'X', message: 'm' } },
  ],
  [
    'verdict',
    verdictSchema,
    { term: 1, verdicts: [{ task: C, agreeing: ['@a:x'], dissenting: [], result: C, of: 2 }] },
  ],
];

/** The value with a key of a later version added to every object in it. */
function withFutureKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withFutureKeys);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = { future: { of: ['anything'] } };
  for (const [k, v] of Object.entries(value)) out[k] = withFutureKeys(v);
  return out;
}

describe('the room events of a newer version', () => {
  it.each(samples)(
    '%s: reads as it would without the keys it does not know',
    (_, schema, sample) => {
      const plain = schema.parse(sample);
      const newer = schema.safeParse(withFutureKeys(sample));
      expect(newer.success).toBe(true);
      expect(newer.data).toEqual(plain);
      expect(JSON.stringify(newer.data)).not.toContain('future');
    },
  );

  it('reads a value a later version added to a list of kinds that only informs', () => {
    const node = samples[0]?.[2] as Record<string, unknown>;
    const newer = nodeStateSchema.parse({
      ...node,
      engines: [{ name: 'wasm-thing', cid: C, runtime: 'wasm' }],
      runtimes: ['isolated-vm', 'wasm'],
    });
    expect(newer.engines).toEqual([{ name: 'wasm-thing', cid: C }]);
    expect(newer.runtimes).toEqual(['isolated-vm']);
    const heads = headsSchema.parse({ heads: [{ origin: C, head: C, size: 1 }], reason: 'rebase' });
    expect(heads.reason).toBe('change');
    const tag = replyTagSchema.parse({ task: C, state: 'partial' });
    expect(tag).toEqual({ task: C });
  });

  it.each(samples)(
    '%s: still refuses a known key with a value it does not take',
    (_, schema, sample) => {
      const [first] = Object.keys(sample);
      const broken = { ...sample, [first as string]: { wrong: true } };
      expect(schema.safeParse(broken).success).toBe(false);
    },
  );
});
