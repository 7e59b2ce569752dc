// Runs once in each sandbox context, after harden.js. It evaluates to `install`, which the
// sandbox process calls once with its two host callbacks, the engine's code and harden.js's
// `reseed` (each task's own Math.random sequence). `install` compiles the engine as a
// function of its host API and returns the runner, `start` and `finish`, which each task
// calls. A task runs the engine's whole script in a new function scope, so its top-level
// bindings are its own, while the realm (hardened by harden.js) and the compiled code, with
// what V8 learnt from earlier tasks, are shared. Each task gets its
// own `meshbot` and `console`, which go dead when the next task starts. The runner only
// pre-checks the output: the host checks it again, as a task may have changed the builtins
// harden.js leaves unfrozen (the realm is then thrown away after it).
// biome-ignore lint/suspicious/noRedundantUseStrict: this is a classic script in the isolate, not a module.
'use strict';
(function install(hostLog, hostProgress, engineCode, reseedRandom) {
  const MAX_LINE = 4096;
  const CHUNK = 8192;
  const fromCharCode = String.fromCharCode;
  const stringify = JSON.stringify;
  const FunctionCtor = Function;
  const freeze = Object.freeze;
  const promiseOf = Promise.resolve.bind(Promise);
  const then = Promise.prototype.then;
  const ignore = () => {};

  function show(value) {
    if (typeof value === 'string') return value;
    try {
      if (value instanceof Error) return `${value.name}: ${value.message}`;
      const json = stringify(value);
      return typeof json === 'string' ? json : String(value);
    } catch {
      return '[unprintable]';
    }
  }

  /** The host API of one task: its calls reach the host only while `session.open`. */
  function openSession() {
    const session = { open: true, logOpen: true, lastProgress: -1 };
    function log(...args) {
      if (!session.open || !session.logOpen) return;
      let line = args.map(show).join(' ');
      if (line.length > MAX_LINE) line = `${line.slice(0, MAX_LINE)}…`;
      // The host answers false once its line or byte cap is reached.
      session.logOpen = hostLog(line) !== false;
    }
    function progress(fraction) {
      const f = Number(fraction);
      if (!session.open || !(f >= 0 && f <= 1)) return;
      // Small steps are not worth a trip to the host, nor is a second 1 (done is done).
      if (f === 1 ? session.lastProgress === 1 : Math.abs(f - session.lastProgress) < 0.01) {
        return;
      }
      session.lastProgress = f;
      hostProgress(f);
    }
    const meshbot = freeze({ log, progress, textDecode, textEncode });
    const console = freeze({ log, info: log, warn: log, error: log, debug: log });
    return { session, meshbot, console };
  }

  function asBytes(value, what) {
    if (value instanceof Uint8Array) return value;
    if (value instanceof ArrayBuffer) return new Uint8Array(value);
    if (ArrayBuffer.isView(value)) {
      return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
    }
    throw new TypeError(`${what} expects a Uint8Array`);
  }

  // UTF-8 to string as WHATWG decodes it: each invalid sequence becomes one U+FFFD.
  function textDecode(input) {
    const bytes = asBytes(input, 'meshbot.textDecode');
    const n = bytes.length;
    const units = new Uint16Array(CHUNK + 2);
    const parts = [];
    let u = 0;
    let i = 0;
    while (i < n) {
      if (u >= CHUNK) {
        parts.push(fromCharCode.apply(null, units.subarray(0, u)));
        u = 0;
      }
      const b0 = bytes[i];
      if (b0 < 0x80) {
        units[u++] = b0;
        i++;
        continue;
      }
      let need = 0;
      let cp = 0;
      let lower = 0x80;
      let upper = 0xbf;
      if (b0 >= 0xc2 && b0 <= 0xdf) {
        need = 1;
        cp = b0 & 0x1f;
      } else if (b0 >= 0xe0 && b0 <= 0xef) {
        need = 2;
        cp = b0 & 0x0f;
        if (b0 === 0xe0) lower = 0xa0;
        if (b0 === 0xed) upper = 0x9f;
      } else if (b0 >= 0xf0 && b0 <= 0xf4) {
        need = 3;
        cp = b0 & 0x07;
        if (b0 === 0xf0) lower = 0x90;
        if (b0 === 0xf4) upper = 0x8f;
      } else {
        units[u++] = 0xfffd;
        i++;
        continue;
      }
      let j = i + 1;
      let ok = true;
      for (let k = 0; k < need; k++, j++) {
        const b = j < n ? bytes[j] : -1;
        if (b < lower || b > upper) {
          ok = false;
          break;
        }
        cp = (cp << 6) | (b & 0x3f);
        lower = 0x80;
        upper = 0xbf;
      }
      i = j;
      if (!ok) {
        units[u++] = 0xfffd;
      } else if (cp > 0xffff) {
        cp -= 0x10000;
        units[u++] = 0xd800 + (cp >> 10);
        units[u++] = 0xdc00 + (cp & 0x3ff);
      } else {
        units[u++] = cp;
      }
    }
    parts.push(fromCharCode.apply(null, units.subarray(0, u)));
    return parts.join('');
  }

  // String to UTF-8; a lone surrogate becomes U+FFFD, as TextEncoder does.
  function textEncode(input) {
    const s = String(input);
    const out = new Uint8Array(s.length * 3);
    let p = 0;
    for (let i = 0; i < s.length; i++) {
      let c = s.charCodeAt(i);
      if (c < 0x80) {
        out[p++] = c;
        continue;
      }
      if (c < 0x800) {
        out[p++] = 0xc0 | (c >> 6);
        out[p++] = 0x80 | (c & 0x3f);
        continue;
      }
      if (c >= 0xd800 && c <= 0xdfff) {
        const d = c <= 0xdbff && i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
        if (d >= 0xdc00 && d <= 0xdfff) {
          const cp = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          i++;
          out[p++] = 0xf0 | (cp >> 18);
          out[p++] = 0x80 | ((cp >> 12) & 0x3f);
          out[p++] = 0x80 | ((cp >> 6) & 0x3f);
          out[p++] = 0x80 | (cp & 0x3f);
          continue;
        }
        c = 0xfffd;
      }
      out[p++] = 0xe0 | (c >> 12);
      out[p++] = 0x80 | ((c >> 6) & 0x3f);
      out[p++] = 0x80 | (c & 0x3f);
    }
    return out.slice(0, p);
  }

  function describe(err) {
    try {
      if (err instanceof Error) return `${err.name}: ${err.message}`;
      return `thrown: ${show(err)}`;
    } catch {
      return 'an unprintable value was thrown';
    }
  }

  function tooLarge(size) {
    return { kind: 'too-large', bytes: size };
  }

  // The output as the host takes it: text or JSON as a string, bytes as a Uint8Array, or an
  // object saying what is wrong. A string crosses to the host as it is; an object would go
  // through V8's serializer both ways.
  function encode(value, maxOutputBytes) {
    if (typeof value === 'string') {
      // Each UTF-16 unit is at least one UTF-8 byte: length is a lower bound of the size.
      return value.length > maxOutputBytes ? tooLarge(value.length) : value;
    }
    if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) {
      const bytes = asBytes(value, 'output');
      if (bytes.byteLength > maxOutputBytes) return tooLarge(bytes.byteLength);
      const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
      return whole ? bytes : bytes.slice();
    }
    let json;
    try {
      json = stringify(value);
    } catch (err) {
      return { kind: 'bad-output', message: `output is not JSON-serialisable (${describe(err)})` };
    }
    if (typeof json !== 'string') {
      return {
        kind: 'bad-output',
        message: `main returned ${typeof value}, not text, bytes or JSON`,
      };
    }
    return json.length > maxOutputBytes ? tooLarge(json.length) : json;
  }

  // The engine's script as the body of a function of its host API. The Function
  // constructor parses the body on its own, so the code cannot close the function early
  // and leave declarations in the context for later tasks. A compile error is thrown here.
  const instantiate = new FunctionCtor(
    'meshbot',
    'console',
    `'use strict';\n${engineCode}\n;return typeof main === 'function' ? main : undefined;`,
  );
  freeze(instantiate.prototype);
  freeze(instantiate);

  let current; // the session of the task now in the realm, or of the last one
  let pending; // what main returned, when it is a promise: finish() awaits it

  // Runs the task's top level and main. A value comes back at once, encoded; a promise is
  // left for finish(), which the host calls only then (a synchronous main costs the host
  // one call into the isolate, not two, and no hop between threads).
  function start(input, params, maxOutputBytes) {
    // A callback of the last task that runs now (a WebAssembly compile that settled late,
    // say) must not log into this one.
    if (current) current.session.open = false;
    current = openSession();
    reseedRandom();
    pending = undefined;
    let value;
    try {
      const main = instantiate(current.meshbot, current.console);
      if (typeof main !== 'function') {
        return { kind: 'error', message: 'TypeError: the engine defines no function main' };
      }
      value = main(input, params);
      if (isThenable(value)) {
        // As a promise of ours, handled at once: one that rejects before finish() awaits it
        // would otherwise reach the host as this call's own error, unclassified.
        const promise = promiseOf(value);
        then.call(promise, undefined, ignore);
        pending = { value: promise, maxOutputBytes };
        return { kind: 'pending' };
      }
    } catch (err) {
      return { kind: 'error', message: describe(err) };
    }
    return encode(value, maxOutputBytes);
  }

  async function finish() {
    // Called when start answered `pending`, which a task that tampered with the builtins
    // encode uses can also make it answer.
    if (pending === undefined)
      return { kind: 'bad-output', message: 'output is not text, bytes or JSON' };
    const { value, maxOutputBytes } = pending;
    pending = undefined;
    let settled;
    try {
      settled = await value;
    } catch (err) {
      return { kind: 'error', message: describe(err) };
    }
    return encode(settled, maxOutputBytes);
  }

  function isThenable(value) {
    const isObject = typeof value === 'object' || typeof value === 'function';
    return isObject && value !== null && typeof value.then === 'function';
  }

  return freeze({ start, finish });
});
