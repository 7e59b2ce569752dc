/**
 * A node's engine allowlist (config `engines.allow`). Each entry is one of:
 * - a name (`wordcount`): that engine from the node's engines folder;
 * - a package CID: exactly that package, from the folder or downloaded from the mesh;
 * - `name@cid`: the same, and the node offers `name` before it has downloaded it.
 * An empty list allows every engine in the folder and nothing from the mesh.
 */
import { ConfigError } from '../errors/index.ts';
import { engineOfferSchema } from '../protocol/engines.ts';
import { isCidString } from '../store/cid.ts';
import { ENGINE_NAME } from './manifest.ts';
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

type Entry =
  | { kind: 'name'; name: string }
  | { kind: 'cid'; cid: string }
  | { kind: 'offer'; name: string; cid: string };

const FORM = 'an entry is an engine name, a package CID, or name@CID';

// A `name@cid` entry is announced as it is, and every roster (this node's too) drops a node
// announcement with an offer its schema refuses: a typo must stop here, not hide the node.
const isPackageCid = (s: string) =>
  engineOfferSchema.shape.cid.safeParse(s).success && isCidString(s);
const isEngineName = (s: string) => ENGINE_NAME.test(s);

const quote = (s: string) => JSON.stringify(s.length > 40 ? `${s.slice(0, 39)}…` : s);

function parseEntry(entry: string): Entry | string {
  const at = entry.indexOf('@');
  if (at >= 0) {
    const name = entry.slice(0, at);
    const cid = entry.slice(at + 1);
    if (!isEngineName(name)) {
      return `${quote(entry)}: ${quote(name)} is not an engine name (lowercase letters, digits, - and _, at most 64); ${FORM}`;
    }
    if (!isPackageCid(cid)) return `${quote(entry)}: ${quote(cid)} is not a package CID; ${FORM}`;
    return { kind: 'offer', name, cid };
  }
  // Engine names are short lowercase words: anything that parses as a CID is one.
  if (isPackageCid(entry)) return { kind: 'cid', cid: entry };
  if (isEngineName(entry)) return { kind: 'name', name: entry };
  return `${quote(entry)} is neither an engine name (lowercase letters, digits, - and _, at most 64) nor a package CID; ${FORM}`;
}

/** Why an `engines.allow` entry is none of the three forms; undefined when it is one. */
export function allowlistEntryProblem(entry: string): string | undefined {
  const parsed = parseEntry(entry);
  return typeof parsed === 'string' ? parsed : undefined;
}

/** Throws ConfigError naming `engines.allow[i]` for an entry that is none of the forms. */
export function parseAllowlist(entries: readonly string[]): Allowlist {
  const names = new Set<string>();
  const cids = new Set<string>();
  const offered: { name: string; cid: string }[] = [];
  entries.forEach((raw, i) => {
    const entry = parseEntry(raw);
    if (typeof entry === 'string') throw new ConfigError(`engines.allow[${i}]: ${entry}`);
    if (entry.kind === 'name') names.add(entry.name);
    else cids.add(entry.cid);
    if (entry.kind === 'offer') offered.push({ name: entry.name, cid: entry.cid });
  });
  const open = entries.length === 0;
  return {
    open,
    offered,
    allows: (pkg) => open || names.has(pkg.manifest.name) || cids.has(pkg.cid),
    allowsDownload: (cid) => cids.has(cid),
  };
}
