/** Which runtime a task's engine needs, as the Verifier looks it up before comparing results. */
import { describe, expect, it } from 'vitest';
import { createEnginePackage } from '../../../src/engines/manifest.ts';
import type { EnginePackage } from '../../../src/engines/types.ts';
import { engineRuntime } from '../../../src/node/resolve-engine.ts';
import type { NodeState } from '../../../src/protocol/events.ts';

const wordcount = createEnginePackage(
  {
    name: 'wordcount',
    version: '1',
    runtime: 'isolated-vm',
    entry: 'main.js',
    description: 'counts',
  },
  'function main() { return 1; }',
);
const WHISPER_CID = 'bafkreiwhisperpackage';

function node(engines: NodeState['engines']): NodeState {
  return {
    version: '1',
    engines,
    cores: 2,
    arch: 'x64',
    memoryMb: 1024,
    gpu: false,
    capacity: 2,
    load: 0,
    ts: 0,
  };
}

describe('engineRuntime', () => {
  const own = new Map<string, EnginePackage>([['wordcount', wordcount]]);

  it("answers from this node's own package of the engine", () => {
    expect(engineRuntime({ name: 'wordcount', cid: wordcount.cid }, own, [])).toBe('isolated-vm');
  });

  it('answers from the offers of other nodes when this node has no such engine', () => {
    const states = [
      node([{ name: 'wordcount', cid: wordcount.cid, runtime: 'isolated-vm' }]),
      node([{ name: 'whisper', cid: WHISPER_CID }]), // not downloaded yet: says nothing
      node([{ name: 'whisper', cid: WHISPER_CID, runtime: 'whisper' }]),
    ];
    expect(engineRuntime({ name: 'whisper', cid: WHISPER_CID }, own, states)).toBe('whisper');
  });

  it('goes by the package CID, not the name', () => {
    const other = { name: 'wordcount', cid: 'bafkreianotherwordcount' };
    const states = [node([{ ...other, runtime: 'docker' }])];
    expect(engineRuntime(other, own, states)).toBe('docker');
    expect(engineRuntime({ name: 'whisper', cid: 'bafkreiunknown' }, own, states)).toBeUndefined();
  });
});
