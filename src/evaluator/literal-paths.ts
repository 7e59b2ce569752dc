import type { Node } from './types.ts';

/** Helpers whose first argument is a path in the condition's own GOHO. */
const LOCAL_PATH_HELPERS: ReadonlySet<string> = new Set(['exist', 'len', 'get', 'keys', 'values']);

/**
 * The paths a condition reads that are written out as string literals (`len('fib')`), for
 * checks made before it runs (a pipeline's stage graph). Computed paths are not seen here.
 */
export function literalPaths(root: Node): Set<string> {
  const out = new Set<string>();
  const walk = (n: Node): void => {
    switch (n.kind) {
      case 'call': {
        const first = n.args[0];
        if (LOCAL_PATH_HELPERS.has(n.helper) && first?.kind === 'literal') {
          if (typeof first.value === 'string') out.add(first.value);
        }
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
  return out;
}
