import { describe, expect, it } from 'vitest';
import { parseAllowlist } from '../../../src/engines/allowlist.ts';
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
});
