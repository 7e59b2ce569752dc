import type { Node } from './types.ts';

/** Helpers whose first argument is a path in the condition's own GOHO. */
const LOCAL_PATH_HELPERS: ReadonlySet<string> = new Set(['exist', 'len', 'get', 'keys', 'values']);

/**
 * The paths a condition reads that are written out as string literals (`len('fib')`), for
 * checks made before it runs (a pipeline's stage graph). Computed paths are not seen here.
 */
export function literalPaths(root: Node): Set<string> {
  const out = new Set<string>();
  eachPathRead(root, (_, first) => {
    if (first?.kind === 'literal' && typeof first.value === 'string') out.add(first.value);
  });
  return out;
}

/**
 * The helpers that read a path of the condition's own GOHO not written as a string literal
 * (`exist('b' + '')`, `get(p)`): a check made before the condition runs cannot see that path.
 */
export function computedPathReads(root: Node): Set<string> {
  const out = new Set<string>();
  eachPathRead(root, (helper, first) => {
    if (first?.kind !== 'literal' || typeof first.value !== 'string') out.add(helper);
  });
  return out;
}

/** Calls `seen` with each call of a local path helper in the tree, and its first argument. */
function eachPathRead(root: Node, seen: (helper: string, first: Node | undefined) => void): void {
  const walk = (n: Node): void => {
    switch (n.kind) {
      case 'call': {
        if (LOCAL_PATH_HELPERS.has(n.helper)) seen(n.helper, n.args[0]);
        for (const a of n.args) walk(a);
        return;
      }
      case 'member':
        walk(n.object);
        if (typeof n.property !== 'string') walk(n.property);
        return;
      case 'array':
        for (const i of n.items) walk(i);
        return;
      case 'unary':
        walk(n.arg);
        return;
      case 'binary':
        walk(n.left);
        walk(n.right);
        return;
      case 'conditional':
        walk(n.test);
        walk(n.consequent);
        walk(n.alternate);
        return;
      default:
        return;
    }
  };
  walk(root);
}
