// Runs once in each sandbox context, first of all: it hardens the realm that every task of
// one engine then shares, so that no task can leave anything for the next. It evaluates to
// `harden`, which the sandbox process calls once; it throws if anything stayed mutable.
//
// - Every object reachable from the global object, and the intrinsics only syntax reaches
//   (generator, iterator and async prototypes), is frozen, the global object included.
// - RegExp's legacy statics (`RegExp.$1`, `RegExp.input`, ...) hold the last match's text:
//   removed. So are `FinalizationRegistry` and `Atomics.waitAsync`, whose callbacks run
//   after the task that set them up has ended.
// - Assigning a property that a frozen prototype also has (`this.name = ...` in an Error
//   subclass, `obj.toString = ...`) would throw: for the few that code commonly assigns,
//   the prototype's property becomes an accessor whose setter defines an own property, as
//   assignment does on an unfrozen prototype (SES calls this the override mistake).

(function harden() {
  const { defineProperty, freeze, getOwnPropertyDescriptor, getPrototypeOf, isFrozen } = Object;
  const { ownKeys, preventExtensions } = Reflect;

  for (const key of ownKeys(RegExp)) {
    const desc = getOwnPropertyDescriptor(RegExp, key);
    // RegExp's own string-keyed accessors are exactly the legacy statics.
    if (typeof key === 'string' && desc && 'get' in desc) delete RegExp[key];
  }
  delete globalThis.FinalizationRegistry;
  delete Atomics.waitAsync;

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
  tameOverrides(Object.prototype, ['constructor', 'toString', 'toLocaleString', 'valueOf']);
  tameOverrides(Function.prototype, ['constructor', 'toString']);
  tameOverrides(Promise.prototype, ['constructor']);
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
  for (const obj of reached) {
    // Object.freeze on these two disables V8's fast path for arrays with holes (their
    // "no elements" protector); freezing them property by property gives the same
    // integrity level and keeps it.
    if (obj === Array.prototype || obj === Object.prototype) freezeByProperty(obj);
    else freeze(obj);
  }

  // Fail closed: every object reached is frozen, and a fresh object of every kind that
  // syntax makes inherits only from frozen ones.
  for (const obj of reached) {
    if (!isFrozen(obj)) throw new Error('the sandbox could not freeze an intrinsic');
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

  function freezeByProperty(obj) {
    for (const key of ownKeys(obj)) {
      const desc = getOwnPropertyDescriptor(obj, key);
      if ('value' in desc) desc.writable = false;
      desc.configurable = false;
      defineProperty(obj, key, desc);
    }
    preventExtensions(obj);
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
