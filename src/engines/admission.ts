/**
 * The checks both runtimes make before they run a package: the runtime is up, the package is
 * for it, the node allows it, and its CID is its own. The CID check comes last and once per
 * package object: the sandboxes cache compiled code and images by CID, so a package whose
 * CID is not its content's could run under another engine's name.
 */
import { EngineRefusedError } from './errors.ts';
import { engineCid } from './manifest.ts';
import type { EnginePackage, RuntimeKind } from './types.ts';

/** Returns the engine's name, or throws EngineRefusedError saying why it may not run. */
export type Admission = (pkg: EnginePackage, started: boolean) => string;

/** `allowlist`: engines by name or package CID; none means every package handed over. */
export function createAdmission(kind: RuntimeKind, allowlist?: readonly string[]): Admission {
  const allow = allowlist ? new Set(allowlist) : undefined;
  const verified = new WeakSet<EnginePackage>();
  return (pkg, started) => {
    const name = pkg.manifest.name;
    if (!started) throw new EngineRefusedError(name, `the ${kind} runtime is not started`);
    if (pkg.manifest.runtime !== kind) {
      throw new EngineRefusedError(name, `it needs the ${pkg.manifest.runtime} runtime`);
    }
    if (allow && !allow.has(pkg.cid) && !allow.has(name)) {
      throw new EngineRefusedError(name, "it is not on this node's allowlist");
    }
    if (!verified.has(pkg)) {
      if (engineCid(pkg.manifest, pkg.code) !== pkg.cid) {
        throw new EngineRefusedError(name, 'its CID does not match its manifest and code');
      }
      verified.add(pkg);
    }
    return name;
  };
}
