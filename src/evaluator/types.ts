/**
 * The condition language's public shapes and its checked AST. Compilation turns jsep's
 * loosely typed tree into `Node`, so evaluation only ever sees constructs we allow.
 */

export const UNARY_OPS = ['!', '-', '+'] as const;
export type UnaryOp = (typeof UNARY_OPS)[number];

// biome-ignore format: one line per operator family reads better than one per operator
export const BINARY_OPS = [
  '+', '-', '*', '/', '%',
  '==', '!=', '===', '!==', '<', '<=', '>', '>=',
  '&&', '||', '??',
] as const;
export type BinaryOp = (typeof BINARY_OPS)[number];

/** Property names that reach the prototype chain; never readable, whatever the object. */
export const FORBIDDEN_PROPERTIES: ReadonlySet<string> = new Set([
  '__proto__',
  'constructor',
  'prototype',
]);

export type Primitive = string | number | boolean | null | undefined;

export type Node =
  | { readonly kind: 'literal'; readonly value: Primitive }
  | { readonly kind: 'variable'; readonly name: string }
  | { readonly kind: 'member'; readonly object: Node; readonly property: string | Node }
  | { readonly kind: 'array'; readonly items: readonly Node[] }
  | { readonly kind: 'unary'; readonly op: UnaryOp; readonly arg: Node }
  | { readonly kind: 'binary'; readonly op: BinaryOp; readonly left: Node; readonly right: Node }
  | {
      readonly kind: 'conditional';
      readonly test: Node;
      readonly consequent: Node;
      readonly alternate: Node;
    }
  | { readonly kind: 'call'; readonly helper: string; readonly args: readonly Node[] };

export type Helper = (...args: unknown[]) => unknown;

/** What a condition can see: variables by name and the helpers it may call. */
export interface Scope {
  vars: Readonly<Record<string, unknown>>;
  helpers: Readonly<Record<string, Helper>>;
}

export interface EvaluateBudget {
  /** AST nodes visited before giving up. Default 10_000. */
  maxSteps?: number;
}

export interface CompileOptions {
  /** Names callable as helpers. Default STANDARD_HELPERS. */
  helpers?: readonly string[];
  /** Longest accepted source, in characters. Default 1000. */
  maxLength?: number;
  /** Most AST nodes accepted. Default 200; also bounds recursion depth when evaluating. */
  maxNodes?: number;
}

/** A compiled, validated condition; safe to evaluate any number of times. */
export interface Condition {
  readonly source: string;
  readonly helpersUsed: ReadonlySet<string>;
  /** Variables the condition reads; a caller can check its scope provides them. */
  readonly identifiers: ReadonlySet<string>;
  /** Paths of its own GOHO it reads, where they are written as string literals. */
  readonly paths: ReadonlySet<string>;
  /** The helpers that read a path of its own GOHO computed when it runs (not seen in `paths`). */
  readonly computedPathReads: ReadonlySet<string>;
  /** The expression's value. Throws ConditionError (or a helper's MeshError). */
  evaluate(scope: Scope, budget?: EvaluateBudget): unknown;
  /** Whether the value is truthy: the question an evaluator asks of a condition. */
  holds(scope: Scope, budget?: EvaluateBudget): boolean;
}
