/**
 * A node's engine allowlist (config `engines.allow`). Each entry is one of:
 * - a name (`wordcount`): that engine from the node's engines folder;
 * - a package CID: exactly that package, from the folder or downloaded from the mesh;
 * - `name@cid`: the same, and the node offers `name` before it has downloaded it.
 * An empty list allows every engine in the folder and nothing from the mesh.
 */
import { isCidString } from '../store/cid.ts';
import type { EnginePackage } from './types.ts';

export interface Allowlist {
  /** Whether the package may run here. */
  allows(pkg: Pick<EnginePackage, 'cid' | 'manifest'>): boolean;
  /** Whether a package this node lacks may be downloaded by this CID. */
  allowsDownload(cid: string): boolean;
  /** `name@cid` entries: engines to offer before they are downloaded. */
  readonly offered: { name: string; cid: string }[];
  /** Whether the list is empty (every local engine, no downloads). */
  readonly open: boolean;
}

export function parseAllowlist(entries: readonly string[]): Allowlist {
  const names = new Set<string>();
  const cids = new Set<string>();
  const offered: { name: string; cid: string }[] = [];
  for (const entry of entries) {
    const at = entry.indexOf('@');
    if (at > 0) {
      const name = entry.slice(0, at);
      const cid = entry.slice(at + 1);
      cids.add(cid);
      offered.push({ name, cid });
      // Engine names are short lowercase words: anything that parses as a CID is one.
    } else if (isCidString(entry)) {
      cids.add(entry);
    } else {
      names.add(entry);
    }
  }
  const open = entries.length === 0;
  return {
    open,
    offered,
    allows: (pkg) => open || names.has(pkg.manifest.name) || cids.has(pkg.cid),
    allowsDownload: (cid) => cids.has(cid),
  };
}
