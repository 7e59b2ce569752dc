import { describe, expect, it } from 'vitest';
import { createAdmission } from '../../../src/engines/admission.ts';
import { EngineRefusedError } from '../../../src/engines/errors.ts';
import { createEnginePackage } from '../../../src/engines/manifest.ts';

const pkg = createEnginePackage(
  {
    name: 'echo',
    version: '1',
    runtime: 'isolated-vm',
    entry: 'main.js',
    description: 'returns its input',
  },
  'function main(input) { return input; }',
);

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(EngineRefusedError);
    return (err as EngineRefusedError).userMessage;
  }
  throw new Error('expected a refusal');
}

describe('createAdmission', () => {
  it('lets a package of its runtime through, by name or CID on the allowlist', () => {
    expect(createAdmission('isolated-vm')(pkg, true)).toBe('echo');
    expect(createAdmission('isolated-vm', ['echo'])(pkg, true)).toBe('echo');
    expect(createAdmission('isolated-vm', [pkg.cid])(pkg, true)).toBe('echo');
  });

  it('refuses while the runtime is not started', () => {
    expect(refusal(() => createAdmission('isolated-vm')(pkg, false))).toBe(
      'engine echo is not available: the isolated-vm runtime is not started',
    );
  });

  it("refuses another runtime's package", () => {
    expect(refusal(() => createAdmission('docker')(pkg, true))).toContain(
      'it needs the isolated-vm runtime',
    );
  });

  it('refuses what the allowlist does not name', () => {
    expect(refusal(() => createAdmission('isolated-vm', ['wordcount'])(pkg, true))).toContain(
      "not on this node's allowlist",
    );
  });

  it('refuses a package whose CID is not its content, also after a good one', () => {
    const admit = createAdmission('isolated-vm');
    expect(admit(pkg, true)).toBe('echo');
    const forged = { ...pkg, code: 'function main() { return "other"; }' };
    expect(refusal(() => admit(forged, true))).toContain('its CID does not match');
  });
});
