import { MeshError } from '../errors/index.ts';
import { ConditionError, withSource } from './errors.ts';
import type { Node, Scope } from './types.ts';
import { applyBinary, readMember, typeName } from './values.ts';

const DEFAULT_MAX_STEPS = 10_000;

/**
 * Evaluates a checked tree. Errors leave as ConditionError with the source attached (or as
 * a helper's own MeshError, which may say more, e.g. that a retry can help).
 */
export function evaluateNode(
  root: Node,
  source: string,
  scope: Scope,
  maxSteps = DEFAULT_MAX_STEPS,
): unknown {
  try {
    return new Walker(scope, maxSteps).visit(root);
  } catch (err) {
    if (err instanceof ConditionError) throw withSource(err, source);
    if (err instanceof MeshError) throw err;
    // Only reachable when maxNodes was raised far enough for the tree's depth to matter.
    if (err instanceof RangeError) {
      throw new ConditionError('the condition is nested too deeply', { source, cause: err });
    }
    throw err;
  }
}

class Walker {
  private steps = 0;

  private readonly scope: Scope;
  private readonly maxSteps: number;

  constructor(scope: Scope, maxSteps: number) {
    this.scope = scope;
    this.maxSteps = maxSteps;
  }

  /** Counts `n` steps against the budget. */
  private readonly charge = (n: number): void => {
    this.steps += n;
    if (this.steps > this.maxSteps) {
      throw new ConditionError(`the condition took too many steps (more than ${this.maxSteps})`);
    }
  };

  visit(n: Node): unknown {
    this.charge(1);
    switch (n.kind) {
      case 'literal':
        return n.value;
      case 'variable':
        if (!Object.hasOwn(this.scope.vars, n.name)) {
          throw new ConditionError(`unknown variable "${n.name}"`);
        }
        return this.scope.vars[n.name];
      case 'member': {
        const object = this.visit(n.object);
        const key = typeof n.property === 'string' ? n.property : this.visit(n.property);
        return readMember(object, key);
      }
      case 'array':
        return n.items.map((item) => this.visit(item));
      case 'unary':
        return this.unary(n.op, this.visit(n.arg));
      case 'binary':
        return this.binary(n);
      case 'conditional':
        return this.visit(n.test) ? this.visit(n.consequent) : this.visit(n.alternate);
      case 'call':
        return this.call(
          n.helper,
          n.args.map((a) => this.visit(a)),
        );
    }
  }

  private unary(op: '!' | '-' | '+', v: unknown): unknown {
    if (op === '!') return !v;
    if (typeof v !== 'number')
      throw new ConditionError(`"${op}" needs a number, got ${typeName(v)}`);
    return op === '-' ? -v : v;
  }

  private binary(n: Extract<Node, { kind: 'binary' }>): unknown {
    const left = this.visit(n.left);
    // The short-circuit operators must not evaluate (nor charge) the side they skip.
    if (n.op === '&&') return left ? this.visit(n.right) : left;
    if (n.op === '||') return left ? left : this.visit(n.right);
    if (n.op === '??') return left ?? this.visit(n.right);
    return applyBinary(n.op, left, this.visit(n.right), this.charge);
  }

  private call(name: string, args: unknown[]): unknown {
    const helper = Object.hasOwn(this.scope.helpers, name) ? this.scope.helpers[name] : undefined;
    if (typeof helper !== 'function') {
      throw new ConditionError(`helper "${name}" is not available here`);
    }
    try {
      return helper(...args);
    } catch (err) {
      if (err instanceof MeshError) throw err;
      const why = err instanceof Error ? err.message : String(err);
      throw new ConditionError(`helper "${name}" failed: ${why}`, { cause: err });
    }
  }
}
