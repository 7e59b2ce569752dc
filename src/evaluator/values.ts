import { ConditionError } from './errors.ts';
import { type BinaryOp, FORBIDDEN_PROPERTIES } from './types.ts';

/** Longest string a condition may build; concatenation in a loop-free language still adds up. */
export const MAX_STRING_LENGTH = 64 * 1024;

/** Objects a condition may look into: data as dag-json decodes it, nothing with behaviour. */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * `object.key` / `object[key]`. Null and undefined give undefined (as `?.` would); only own
 * data of plain objects and arrays is visible, so no prototype member or function escapes.
 */
export function readMember(object: unknown, key: unknown): unknown {
  if (object === null || object === undefined) return undefined;
  if (typeof key !== 'string' && typeof key !== 'number') {
    throw new ConditionError(`a property name must be a string or a number, not ${typeName(key)}`);
  }
  const name = String(key);
  if (FORBIDDEN_PROPERTIES.has(name)) {
    throw new ConditionError(`the property "${name}" is not allowed in a condition`);
  }
  let value: unknown;
  if (Array.isArray(object) || typeof object === 'string') {
    if (name === 'length') return object.length;
    if (Array.isArray(object) && Object.hasOwn(object, name)) value = object[Number(name)];
  } else if (isPlainObject(object) && Object.hasOwn(object, name)) {
    value = object[name];
  }
  return typeof value === 'function' ? undefined : value;
}

export function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  return typeof v === 'undefined' ? 'undefined' : `a ${typeof v}`;
}

/**
 * Charges a condition's step budget for work past its syntax nodes: each value a structural
 * comparison walks is a step. Without it, `values('m') != values('m')` over large stage
 * outputs cost seconds per evaluation within a budget of a few dozen steps.
 */
export type Charge = (steps: number) => void;

const FREE: Charge = () => {};

/** Strict equality for primitives; structural (canonical JSON) for lists and plain objects. */
export function same(a: unknown, b: unknown, charge: Charge = FREE): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  const ca = canonical(a, charge);
  return ca !== undefined && ca === canonical(b, charge);
}

/** JSON with sorted keys; undefined when the value holds something JSON cannot say. */
function canonical(v: unknown, charge: Charge): string | undefined {
  charge(1);
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return JSON.stringify(v);
  if (typeof v === 'number') return Number.isFinite(v) ? JSON.stringify(v) : undefined;
  if (Array.isArray(v)) {
    const parts = v.map((item) => canonical(item, charge));
    return parts.includes(undefined) ? undefined : `[${parts.join(',')}]`;
  }
  if (!isPlainObject(v)) return undefined;
  const parts: string[] = [];
  for (const key of Object.keys(v).sort()) {
    const c = canonical(v[key], charge);
    if (c === undefined) return undefined;
    parts.push(`${JSON.stringify(key)}:${c}`);
  }
  return `{${parts.join(',')}}`;
}

type Strict = Exclude<BinaryOp, '&&' | '||' | '??'>;

/** The operators that always evaluate both sides. */
export function applyBinary(op: Strict, a: unknown, b: unknown, charge: Charge = FREE): unknown {
  switch (op) {
    case '==':
    case '===':
      return same(a, b, charge);
    case '!=':
    case '!==':
      return !same(a, b, charge);
    case '<':
    case '<=':
    case '>':
    case '>=':
      return compare(op, a, b);
    case '+':
      return add(a, b);
    default:
      return arithmetic(op, a, b);
  }
}

function add(a: unknown, b: unknown): unknown {
  if (typeof a === 'number' && typeof b === 'number') return a + b;
  if (typeof a === 'string' && typeof b === 'string') {
    if (a.length + b.length > MAX_STRING_LENGTH) {
      throw new ConditionError(`a string would grow past ${MAX_STRING_LENGTH} characters`);
    }
    return a + b;
  }
  throw new ConditionError(`cannot add ${typeName(a)} and ${typeName(b)}`);
}

function arithmetic(op: '-' | '*' | '/' | '%', a: unknown, b: unknown): number {
  if (typeof a !== 'number' || typeof b !== 'number') {
    throw new ConditionError(`"${op}" needs two numbers, got ${typeName(a)} and ${typeName(b)}`);
  }
  if (op === '-') return a - b;
  if (op === '*') return a * b;
  return op === '/' ? a / b : a % b;
}

function compare(op: '<' | '<=' | '>' | '>=', a: unknown, b: unknown): boolean {
  const ok =
    (typeof a === 'number' && typeof b === 'number') ||
    (typeof a === 'string' && typeof b === 'string');
  if (!ok) {
    throw new ConditionError(
      `cannot compare ${typeName(a)} with ${typeName(b)} using "${op}" (both must be numbers or both strings)`,
    );
  }
  const [x, y] = [a as number | string, b as number | string];
  if (op === '<') return x < y;
  if (op === '<=') return x <= y;
  return op === '>' ? x > y : x >= y;
}
