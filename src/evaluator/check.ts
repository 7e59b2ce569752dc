import type jsep from 'jsep';
import { ConditionError } from './errors.ts';
import type { JsepNode } from './parse.ts';
import {
  BINARY_OPS,
  type BinaryOp,
  FORBIDDEN_PROPERTIES,
  type Node,
  UNARY_OPS,
  type UnaryOp,
} from './types.ts';

/** Words jsep reads as identifiers but that a JavaScript author means as keywords. */
const RESERVED = new Set(['new', 'typeof', 'void', 'delete', 'in', 'instanceof', 'function']);

const isBinaryOp = (op: unknown): op is BinaryOp => (BINARY_OPS as readonly unknown[]).includes(op);
const isUnaryOp = (op: unknown): op is UnaryOp => (UNARY_OPS as readonly unknown[]).includes(op);

/** Walks jsep's tree once, rejecting anything outside the language and counting nodes. */
export class Checker {
  readonly helpersUsed = new Set<string>();
  readonly identifiers = new Set<string>();
  private nodes = 0;

  private readonly helpers: ReadonlySet<string>;
  private readonly maxNodes: number;

  constructor(helpers: ReadonlySet<string>, maxNodes: number) {
    this.helpers = helpers;
    this.maxNodes = maxNodes;
  }

  // Counting on entry bounds recursion depth by maxNodes before any deep descent.
  check(n: JsepNode): Node {
    if (++this.nodes > this.maxNodes) {
      throw new ConditionError(`the condition is too complex (more than ${this.maxNodes} parts)`);
    }
    switch (n.type) {
      case 'Literal':
        return this.literal(n as jsep.Literal);
      case 'Identifier':
        return this.identifier((n as jsep.Identifier).name);
      case 'MemberExpression':
        return this.member(n as jsep.MemberExpression);
      case 'ArrayExpression':
        return this.array(n as jsep.ArrayExpression);
      case 'UnaryExpression': {
        const u = n as jsep.UnaryExpression;
        if (!isUnaryOp(u.operator)) throw notAllowed(`operator "${u.operator}"`);
        return { kind: 'unary', op: u.operator, arg: this.check(u.argument) };
      }
      case 'BinaryExpression': {
        const b = n as jsep.BinaryExpression;
        if (!isBinaryOp(b.operator)) throw notAllowed(`operator "${b.operator}"`);
        return {
          kind: 'binary',
          op: b.operator,
          left: this.check(b.left),
          right: this.check(b.right),
        };
      }
      case 'ConditionalExpression': {
        const c = n as jsep.ConditionalExpression;
        const test = this.check(c.test);
        return {
          kind: 'conditional',
          test,
          consequent: this.check(c.consequent),
          alternate: this.check(c.alternate),
        };
      }
      case 'CallExpression':
        return this.call(n as jsep.CallExpression);
      case 'ThisExpression':
        throw notAllowed('"this"');
      case 'Compound':
        throw compoundError(n as jsep.Compound);
      case 'SequenceExpression':
        throw notAllowed('the comma operator');
      default:
        throw notAllowed(`a ${String(n.type)} expression`);
    }
  }

  private literal(n: jsep.Literal): Node {
    const v: unknown = n.value;
    if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') {
      return { kind: 'literal', value: v };
    }
    throw notAllowed(`the literal ${String(n.raw)}`);
  }

  private identifier(name: string): Node {
    if (RESERVED.has(name)) throw notAllowed(`"${name}"`);
    // jsep has no `undefined` literal, yet authors write `get(p) == undefined`.
    if (name === 'undefined') return { kind: 'literal', value: undefined };
    if (this.helpers.has(name)) {
      throw new ConditionError(`helper "${name}" must be called, as in ${name}(...)`);
    }
    this.identifiers.add(name);
    return { kind: 'variable', name };
  }

  private member(n: jsep.MemberExpression): Node {
    const object = this.check(n.object);
    if (!n.computed) {
      const name = (n.property as jsep.Identifier).name;
      if (n.property.type !== 'Identifier' || typeof name !== 'string') {
        throw notAllowed('this property access');
      }
      if (FORBIDDEN_PROPERTIES.has(name)) throw notAllowed(`the property "${name}"`);
      return { kind: 'member', object, property: name };
    }
    const property = this.check(n.property);
    if (property.kind === 'literal' && FORBIDDEN_PROPERTIES.has(String(property.value))) {
      throw notAllowed(`the property "${String(property.value)}"`);
    }
    return { kind: 'member', object, property };
  }

  private array(n: jsep.ArrayExpression): Node {
    const items = n.elements.map((e) => {
      if (e === null) throw notAllowed('an empty array slot');
      return this.check(e);
    });
    return { kind: 'array', items };
  }

  private call(n: jsep.CallExpression): Node {
    if (n.callee.type !== 'Identifier') {
      throw new ConditionError(`only helpers can be called (${this.known()})`);
    }
    const name = (n.callee as jsep.Identifier).name;
    if (!this.helpers.has(name)) {
      throw new ConditionError(`unknown helper "${name}" (${this.known()})`);
    }
    this.helpersUsed.add(name);
    return { kind: 'call', helper: name, args: n.arguments.map((a) => this.check(a)) };
  }

  private known(): string {
    const names = [...this.helpers].sort();
    return names.length === 0 ? 'no helpers are available' : `known helpers: ${names.join(', ')}`;
  }
}

const notAllowed = (what: string): ConditionError =>
  new ConditionError(`${what} is not allowed in a condition`);

/** jsep reads `new Foo()` or `a b` as several expressions side by side. */
function compoundError(n: jsep.Compound): ConditionError {
  const first = n.body[0];
  if (first?.type === 'Identifier' && RESERVED.has(String(first.name))) {
    return notAllowed(`"${String(first.name)}"`);
  }
  return new ConditionError(
    `a condition is a single expression, found ${n.body.length} (use && or || to combine)`,
  );
}
