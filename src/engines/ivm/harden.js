// Runs once in each sandbox context, first of all: it hardens the realm that every task of
// one engine then shares, so that no task can leave anything for the next. It evaluates to
// `harden`, which the sandbox process calls once; that returns `unchanged`, which the
// sandbox calls after every task, `collect`, V8's full garbage collection (the sandbox runs
// with --expose-gc), and `reseed`, which prelude.js calls as each task starts (see
// ownRandom below).
//
// - Every object reachable from the global object, and the intrinsics only syntax reaches
//   (generator, iterator and async prototypes), is frozen, the global object included;
//   `harden` throws if one stayed mutable.
// - Except the builtins that V8's fast paths watch (Array.prototype, RegExp.prototype,
//   the iterator prototypes, Promise, typed arrays...): freezing those would make regular
//   expressions, spreads, for-of over a Map or reads of arrays with holes several times
//   slower. They stay as they are; `unchanged` compares them with how they were, and a
//   realm in which a task changed one is thrown away.
// - RegExp's legacy statics (`RegExp.$1`, `RegExp.input`, ...) hold the last match's text:
//   removed. So are `FinalizationRegistry`, `Atomics.waitAsync` and WebAssembly's
//   asynchronous entry points (`compile`, `instantiate`, their streaming forms, and the
//   promise integration `promising`/`Suspending`), whose callbacks run after the task that
//   set them up has ended: in a later task, or between tasks outside any time limit. The
//   synchronous `new WebAssembly.Module/Instance` stay.
// - `Atomics.wait` is removed too: an engine has no other thread that could wake it, so
//   blocking only holds the sandbox, off the CPU, while isolated-vm's CPU limit (a clock)
//   runs on.
// - Assigning a property that a frozen prototype also has (`this.name = ...` in an Error
//   subclass, `fn.toString = ...`) would throw: for those, the prototype's property becomes
//   an accessor whose setter defines an own property, as assignment does on an unfrozen
//   prototype (SES calls this the override mistake).
// biome-ignore lint/suspicious/noRedundantUseStrict: this is a classic script in the isolate, not a module.
'use strict';
(function harden() {
  const LATER = [
    'compile',
    'instantiate',
    'compileStreaming',
    'instantiateStreaming',
    'promising',
    'Suspending',
    'SuspendError',
  ];
  const { defineProperty, freeze, getOwnPropertyDescriptor, getPrototypeOf } = Object;
  const { hasOwn, is: sameValue, isExtensible, isFrozen, setPrototypeOf } = Object;
  const { ownKeys } = Reflect;
  // V8 makes the global `gc` non-configurable: it stays, frozen; an engine that calls it pays
  // for the collection in its own CPU time. But only as a plain full collection: with
  // `{ execution: 'async' }` it returns a promise that V8 settles from a task of its own,
  // later, in a later task of this realm (the same hole as WebAssembly.compile).
  const gc = typeof globalThis.gc === 'function' ? globalThis.gc : undefined;
  if (gc) {
    globalThis.gc = () => {
      gc();
    };
  }
  const reseed = ownRandom();

  for (const key of ownKeys(RegExp)) {
    const desc = getOwnPropertyDescriptor(RegExp, key);
    // RegExp's own string-keyed accessors are exactly the legacy statics.
    if (typeof key === 'string' && desc && 'get' in desc) delete RegExp[key];
  }
  delete globalThis.FinalizationRegistry;
  delete Atomics.wait;
  delete Atomics.waitAsync;
  for (const key of LATER) delete WebAssembly[key];

  const watched = new Set(fastPathIntrinsics());
  const errorPrototypes = [
    Error,
    EvalError,
    RangeError,
    ReferenceError,
    SyntaxError,
    TypeError,
    URIError,
    AggregateError,
    globalThis.SuppressedError,
  ]
    .filter((ctor) => typeof ctor === 'function')
    .map((ctor) => ctor.prototype);
  tameOverrides(Function.prototype, ['constructor', 'toString']);
  for (const proto of errorPrototypes) {
    tameOverrides(proto, ['constructor', 'name', 'message', 'toString']);
  }

  const reached = new Set();
  const stack = [globalThis, ...hiddenIntrinsics()];
  while (stack.length > 0) {
    const obj = stack.pop();
    if ((typeof obj !== 'object' && typeof obj !== 'function') || obj === null) continue;
    if (reached.has(obj)) continue;
    reached.add(obj);
    stack.push(getPrototypeOf(obj));
    for (const key of ownKeys(obj)) {
      const desc = getOwnPropertyDescriptor(obj, key);
      if (!desc) continue;
      if ('value' in desc) stack.push(desc.value);
      else stack.push(desc.get, desc.set);
    }
  }
  for (const obj of reached) if (!watched.has(obj)) freeze(obj);

  // Fail closed: every object reached is frozen or watched, and a fresh object of every kind
  // that syntax makes inherits only from those.
  for (const obj of reached) {
    if (!isFrozen(obj) && !watched.has(obj)) {
      throw new Error('the sandbox could not freeze an intrinsic');
    }
  }
  const probes = hiddenIntrinsics();
  // A generator's instances inherit from its own `prototype`: new with each probe function.
  const fresh = new Set(probes.map((probe) => probe.prototype));
  for (const probe of probes) {
    for (let p = getPrototypeOf(probe); p !== null; p = getPrototypeOf(p)) {
      if (!reached.has(p) && !fresh.has(p)) {
        throw new Error('the sandbox missed an intrinsic prototype');
      }
    }
  }

  // `unchanged` runs after tasks that may have changed any watched builtin, the iterators
  // and Object.prototype included: it calls only frozen functions and uses indexed loops,
  // never a method or an iterator a task could have replaced. It reads only the fields a
  // descriptor has: one it lacks (`get` of a data property) would be looked up on
  // Object.prototype, where a task may have put a getter, which would then run here, between
  // tasks, outside every limit. The snapshots' descriptors have no prototype; a live one is
  // read by its kind (`hasOwn`), without setting its prototype: that was four fifths of the
  // check's time, 0.35 of 0.45 ms after each task on the test VM.
  const snapshots = [];
  for (const obj of watched) snapshots.push(snapshot(obj));
  freeze(snapshots);
  return freeze({
    unchanged: freeze(function unchanged() {
      for (let i = 0; i < snapshots.length; i++) if (!same(snapshots[i])) return false;
      return true;
    }),
    collect: freeze(function collect() {
      if (gc) gc();
    }),
    reseed,
  });

  // Math.random from a generator of the realm's own (sfc32), seeded afresh for each task
  // from V8's: V8's sequence is shared by every task of the realm, so a task that drew as
  // many numbers as its input said could tell the next one that input. A seed takes the
  // same draws from V8's sequence whatever a task did.
  function ownRandom() {
    const v8Random = Math.random;
    const { imul } = Math;
    let a = 0;
    let b = 0;
    let c = 0;
    let d = 1;
    const next = () => {
      const t = (((a + b) | 0) + d) | 0;
      d = (d + 1) | 0;
      a = b ^ (b >>> 9);
      b = (c + (c << 3)) | 0;
      c = (c << 21) | (c >>> 11);
      c = (c + t) | 0;
      return t >>> 0;
    };
    const draw = () => imul(v8Random() * 0x100000000, 1) | 0;
    defineProperty(Math, 'random', {
      value: function random() {
        // 53 random bits, as V8's own: 27 from one draw and 26 from the next.
        return ((next() >>> 5) * 67108864 + (next() >>> 6)) / 9007199254740992;
      },
      writable: true,
      enumerable: false,
      configurable: true,
    });
    return freeze(function reseed() {
      a = draw();
      b = draw();
      c = draw();
      d = 1;
      for (let i = 0; i < 12; i++) next();
    });
  }

  function snapshot(obj) {
    const keys = ownKeys(obj);
    const descs = [];
    for (let i = 0; i < keys.length; i++) descs.push(descriptor(obj, keys[i]));
    const extensible = isExtensible(obj);
    return freeze({ obj, proto: getPrototypeOf(obj), extensible, keys, descs });
  }

  function descriptor(obj, key) {
    const desc = getOwnPropertyDescriptor(obj, key);
    return desc === undefined ? desc : setPrototypeOf(desc, null);
  }

  function same(shot) {
    const { obj, keys, descs } = shot;
    if (getPrototypeOf(obj) !== shot.proto || isExtensible(obj) !== shot.extensible) return false;
    const now = ownKeys(obj);
    if (now.length !== keys.length) return false;
    for (let i = 0; i < keys.length; i++) {
      if (now[i] !== keys[i]) return false;
      const was = descs[i];
      const is = getOwnPropertyDescriptor(obj, keys[i]);
      if (is === undefined) return false;
      const data = hasOwn(is, 'value');
      if (data !== hasOwn(was, 'value')) return false;
      if (
        data
          ? !sameValue(is.value, was.value) || is.writable !== was.writable
          : is.get !== was.get || is.set !== was.set
      )
        return false;
      if (is.enumerable !== was.enumerable || is.configurable !== was.configurable) return false;
    }
    return true;
  }

  // The builtins whose state V8's fast paths check ("protectors" and initial maps).
  function fastPathIntrinsics() {
    const typedArray = getPrototypeOf(Uint8Array);
    const arrayIterator = getPrototypeOf([].values());
    const list = [
      Object.prototype,
      Array,
      Array.prototype,
      arrayIterator,
      getPrototypeOf(arrayIterator),
      String.prototype,
      getPrototypeOf(''[Symbol.iterator]()),
      Number.prototype,
      RegExp,
      RegExp.prototype,
      getPrototypeOf('a'.matchAll(/a/g)),
      Map.prototype,
      getPrototypeOf(new Map().values()),
      Set.prototype,
      getPrototypeOf(new Set().values()),
      Promise,
      Promise.prototype,
      ArrayBuffer,
      ArrayBuffer.prototype,
      typedArray,
      typedArray.prototype,
    ];
    for (const key of ownKeys(globalThis)) {
      const value = globalThis[key];
      if (typeof value === 'function' && getPrototypeOf(value) === typedArray) {
        list.push(value, value.prototype);
      }
    }
    if (typeof SharedArrayBuffer === 'function') {
      list.push(SharedArrayBuffer, SharedArrayBuffer.prototype);
    }
    return list;
  }

  function tameOverrides(proto, names) {
    for (const name of names) {
      const desc = getOwnPropertyDescriptor(proto, name);
      if (!desc || !('value' in desc)) continue;
      const value = desc.value;
      defineProperty(proto, name, {
        get() {
          return value;
        },
        set(next) {
          if (this === proto) throw new TypeError(`Cannot assign to read only property '${name}'`);
          defineProperty(this, name, {
            value: next,
            writable: true,
            enumerable: true,
            configurable: true,
          });
        },
        enumerable: desc.enumerable,
        configurable: false,
      });
    }
  }

  // Objects whose prototypes no global property leads to.
  function hiddenIntrinsics() {
    function* generator() {}
    async function* asyncGenerator() {}
    const probes = [
      generator,
      generator(),
      asyncGenerator,
      asyncGenerator(),
      async () => {},
      [].values(),
      new Map().values(),
      new Set().values(),
      ''[Symbol.iterator](),
      'a'.matchAll(/a/g),
      (function strictArguments() {
        // biome-ignore lint/complexity/noArguments: the arguments object is the probe.
        return arguments;
      })(),
    ];
    if (typeof Iterator === 'function' && typeof Iterator.from === 'function') {
      probes.push(
        Iterator.from({ next: () => ({ done: true }) }),
        [].values().map((x) => x),
      );
    }
    if (typeof Intl === 'object' && typeof Intl.Segmenter === 'function') {
      const segments = new Intl.Segmenter().segment('a');
      probes.push(segments, segments[Symbol.iterator]());
    }
    return probes;
  }
});
