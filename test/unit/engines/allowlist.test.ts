import { describe, expect, it } from 'vitest';
import { parseAllowlist } from '../../../src/engines/allowlist.ts';
import { createRunner } from '../../../src/engines/runner.ts';
import type { EngineRuntime } from '../../../src/engines/types.ts';
import { MeshError } from '../../../src/errors/index.ts';
import { engineOfferSchema } from '../../../src/protocol/engines.ts';
import { cidOf, DAG_JSON } from '../../../src/store/cid.ts';

const pkg = (name: string, cid: string) => ({
  cid: cid as never,
  manifest: { name } as never,
});
// Real package CIDs (dag-json, base32), as `meshbot engines pack` prints them.
const CID_A = cidOf(DAG_JSON, new TextEncoder().encode('{"a":1}')).toString();
const CID_B = cidOf(DAG_JSON, new TextEncoder().encode('{"b":2}')).toString();

describe('engine allowlists', () => {
  it('empty: every local engine, nothing from the mesh', () => {
    const list = parseAllowlist([]);
    expect(list.open).toBe(true);
    expect(list.allows(pkg('anything', CID_A))).toBe(true);
    expect(list.allowsDownload(CID_A)).toBe(false);
    expect(list.offered).toEqual([]);
  });

  it('a name allows that engine from the folder, in any version, and no download', () => {
    const list = parseAllowlist(['wordcount']);
    expect(list.allows(pkg('wordcount', CID_A))).toBe(true);
    expect(list.allows(pkg('wordcount', CID_B))).toBe(true);
    expect(list.allows(pkg('sha256', CID_A))).toBe(false);
    expect(list.allowsDownload(CID_A)).toBe(false);
  });

  it('a CID allows exactly that package, whatever its name, and its download', () => {
    expect(CID_A).toMatch(/^bagu/);
    const list = parseAllowlist([CID_A]);
    expect(list.allows(pkg('wordcount', CID_A))).toBe(true);
    expect(list.allows(pkg('wordcount', CID_B))).toBe(false);
    expect(list.allowsDownload(CID_A)).toBe(true);
    expect(list.offered).toEqual([]);
  });

  it('name@cid allows and offers that package before it is downloaded', () => {
    const list = parseAllowlist([`fibsum-map@${CID_B}`]);
    expect(list.offered).toEqual([{ name: 'fibsum-map', cid: CID_B }]);
    expect(list.allowsDownload(CID_B)).toBe(true);
    expect(list.allows(pkg('fibsum-map', CID_B))).toBe(true);
    expect(list.allows(pkg('fibsum-map', CID_A))).toBe(false);
  });

  // Each would be announced as it is, and every roster (this node's too) drops an
  // announcement with an offer engineOfferSchema refuses: the node would leave the mesh.
  it.each([
    ['whisper@latest', /engines\.allow\[1\]: "whisper@latest": "latest" is not a package CID/],
    ['wordcount@bafy-typo', /"bafy-typo" is not a package CID/],
    [`${'x'.repeat(120)}@${CID_A}`, /"x{39}…" is not an engine name/],
    [`Whisper@${CID_A}`, /"Whisper" is not an engine name/],
    [`@${CID_A}`, /"" is not an engine name/],
    ['word count', /is neither an engine name .* nor a package CID/],
    [' wordcount', /is neither an engine name/],
  ])('refuses %s, naming the entry and the forms an entry takes', (entry, reason) => {
    const err = (() => {
      try {
        parseAllowlist(['wordcount', entry]);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(MeshError);
    expect((err as MeshError).code).toBe('CONFIG');
    expect((err as Error).message).toMatch(/^engines\.allow\[1\]: /);
    expect((err as Error).message).toMatch(reason);
    expect((err as Error).message).toContain('an engine name, a package CID, or name@CID');
  });

  it('offers only what every roster accepts', async () => {
    const runtime: EngineRuntime = {
      kind: 'isolated-vm',
      start: async () => {},
      stop: async () => {},
      run: async () => ({ output: new Uint8Array(), logs: [], wallMs: 0, cpuMs: 0 }),
    };
    const runner = createRunner({ runtimes: [runtime], allow: [`fibsum-map@${CID_B}`] });
    await runner.start();
    for (const offer of runner.offers()) expect(engineOfferSchema.parse(offer)).toEqual(offer);
    expect(() => createRunner({ runtimes: [runtime], allow: ['whisper@latest'] })).toThrow(
      /engines\.allow\[0\]/,
    );
  });
});
