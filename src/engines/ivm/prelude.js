// Runs in every sandbox context before the engine's code. It evaluates to `install`, which
// the sandbox process calls with two host callbacks; `install` defines the `meshbot` global
// and returns the runner. The runner only pre-checks the output: the host checks it again,
// because the engine can tamper with every builtin the runner uses.
(function install(hostLog, hostProgress, maxOutputBytes) {
  const MAX_LINE = 4096;
  const CHUNK = 8192;
  const fromCharCode = String.fromCharCode;
  const stringify = JSON.stringify;
  const FunctionCtor = Function;

  let logOpen = true;
  let lastProgress = -1;

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

  function log(...args) {
    if (!logOpen) return;
    let line = args.map(show).join(' ');
    if (line.length > MAX_LINE) line = `${line.slice(0, MAX_LINE)}…`;
    // The host answers false once its line or byte cap is reached.
    logOpen = hostLog(line) !== false;
  }

  function progress(fraction) {
    const f = Number(fraction);
    if (!(f >= 0 && f <= 1)) return;
    // Small steps are not worth a trip to the host.
    if (f !== 1 && Math.abs(f - lastProgress) < 0.01) return;
    lastProgress = f;
    hostProgress(f);
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

  const meshbot = Object.freeze({ log, progress, textDecode, textEncode });
  Object.defineProperty(globalThis, 'meshbot', { value: meshbot });
  // V8's own console goes nowhere; send it to the run's log instead.
  const toLog = Object.freeze({ log, info: log, warn: log, error: log, debug: log });
  Object.defineProperty(globalThis, 'console', {
    value: toLog,
    writable: true,
    configurable: true,
  });

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

  function encode(value) {
    if (typeof value === 'string') {
      // Each UTF-16 unit is at least one UTF-8 byte: length is a lower bound of the size.
      return value.length > maxOutputBytes ? tooLarge(value.length) : { kind: 'text', value };
    }
    if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) {
      const bytes = asBytes(value, 'output');
      if (bytes.byteLength > maxOutputBytes) return tooLarge(bytes.byteLength);
      const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
      return { kind: 'bytes', value: whole ? bytes : bytes.slice() };
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
    return json.length > maxOutputBytes ? tooLarge(json.length) : { kind: 'json', value: json };
  }

  // Finds `main` whether it is a function declaration or a top-level `const`/`let`.
  const findMain = new FunctionCtor('return typeof main === "function" ? main : undefined');

  return async function run(input, params) {
    let value;
    try {
      const main = findMain();
      if (typeof main !== 'function') {
        return { kind: 'error', message: 'TypeError: the engine defines no function main' };
      }
      value = await main(input, params);
    } catch (err) {
      return { kind: 'error', message: describe(err) };
    }
    return encode(value);
  };
});
