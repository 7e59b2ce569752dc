/**
 * Run by test/integration/engines/ivm-harden.test.ts as
 * `node --no-node-snapshot --allow-natives-syntax harden-probe.ts`: hardens isolates the way
 * the sandbox does and prints, as one JSON line, whether V8's fast-path protectors survived
 * and whether `unchanged` saw each change to a builtin that harden.js leaves unfrozen.
 * V8's natives (`%ArraySpeciesProtector()`) exist only with that flag, which the sandbox
 * never has: hence a process of its own.
 */
import { readFileSync } from 'node:fs';
import ivm from 'isolated-vm';

const HARDEN = readFileSync(new URL('../../src/engines/ivm/harden.js', import.meta.url), 'utf8');

const PROTECTORS = [
  'ArraySpeciesProtector',
  'ArrayIteratorProtector',
  'MapIteratorProtector',
  'SetIteratorProtector',
  'StringIteratorProtector',
  'NoElementsProtector',
  'TypedArraySpeciesProtector',
  'RegExpSpeciesProtector',
  'PromiseSpeciesProtector',
  'IsConcatSpreadableProtector',
];

/** Changes a task could make to the builtins harden.js watches instead of freezing. */
const CHANGES = [
  'Array.prototype.stash = 1',
  'Array.prototype.push(1)',
  'delete Array.prototype.map',
  'Object.prototype.toString = () => "x"',
  'RegExp.prototype.exec = () => null',
  'Object.defineProperty(String.prototype, "stash", { get() { return 1; } })',
  'Object.setPrototypeOf(Map.prototype, null)',
  'Object.preventExtensions(Set.prototype)',
  'Object.getPrototypeOf([].values()).next = () => ({ done: true })',
  'Promise.prototype.then = null',
  'Uint8Array.prototype.constructor = Array',
  'Array.from = null',
  // Changes that would blind a checker built on builtins: it must still see them.
  'Array.prototype[Symbol.iterator] = function* () {}',
  'Object.defineProperty(Object.prototype, "value", { get() { return undefined; } })',
  'Object.defineProperty(Array.prototype, "map", { get: () => null })',
  'Object.defineProperty(Object.prototype, "writable", { value: true }); Object.defineProperty(Array.prototype, "at", { __proto__: null, get: () => 1 })',
  // Each field of a descriptor, on its own: kind, value, accessors, flags.
  'Object.defineProperty(Array.prototype, "map", { get: undefined, set: undefined })',
  'Object.defineProperty(RegExp.prototype, "flags", { value: "g" })',
  'Object.defineProperty(RegExp.prototype, "flags", { set(v) {} })',
  'Object.defineProperty(Array.prototype, "map", { writable: false })',
  'Object.defineProperty(Array.prototype, "map", { enumerable: true })',
  'Object.defineProperty(Array.prototype, "map", { configurable: false })',
  // -0 for 0: equal to ===, but a later task could read the sign (a bit from task to task).
  'Object.defineProperty(Object.getPrototypeOf(Uint8Array), "length", { value: -0 })',
];

async function hardened() {
  const isolate = new ivm.Isolate({ memoryLimit: 64 });
  const context = await isolate.createContext();
  const harden = await isolate.compileScript(HARDEN);
  const fn: ivm.Reference = await harden.run(context, { reference: true });
  const tools: ivm.Reference = await fn.apply(undefined, [], { result: { reference: true } });
  const unchanged: ivm.Reference = await tools.get('unchanged', { reference: true });
  const intact = () => unchanged.applySync(undefined, []) === true;
  return { isolate, context, intact };
}

const first = await hardened();
const natives = PROTECTORS.map((name) => `${name}: %${name}()`);
natives.push('RegexpIsUnmodified: %RegexpIsUnmodified(/a/g)');
const protectors = JSON.parse(
  await first.context.eval(`JSON.stringify({ ${natives.join(', ')} })`),
);
const intactAtFirst = first.intact();
first.isolate.dispose();

const seen: Record<string, boolean> = {};
for (const change of CHANGES) {
  const realm = await hardened();
  // `; undefined`: some changes evaluate to a builtin function, which cannot cross.
  await realm.context.eval(`${change}; undefined`);
  seen[change] = !realm.intact();
  realm.isolate.dispose();
}
process.stdout.write(`${JSON.stringify({ protectors, intactAtFirst, seen })}\n`);
