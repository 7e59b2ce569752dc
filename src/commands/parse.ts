import { COMMANDS, type CommandSpec, PREFIX, wrongUsage } from './commands.ts';

export type Command =
  /** `cid` absent: the input is the file of the message the command replies to. */
  | { name: 'run'; engine: string; cid?: string; params: Record<string, string> }
  | { name: 'autotranscribe'; on: boolean }
  | { name: 'status'; task?: string }
  | { name: 'cancel'; task?: string }
  | { name: 'mesh' }
  /** `release`: a quarantined node to let back in. */
  | { name: 'trust'; release?: string }
  | { name: 'help' };

export type ParseResult =
  | { kind: 'none' }
  | { kind: 'ok'; command: Command }
  | { kind: 'usage'; spec: CommandSpec | null; message: string };

/** The longest command read, in characters: past it, only its name is looked at. */
const MAX_LENGTH = 4_000;
/** Longest command name looked up in an overlong command. */
const MAX_NAME = 64;
/** Longest unknown command name quoted back: the reply is not an echo service. */
const MAX_QUOTE = 60;
const PARAM = /^([A-Za-z_][A-Za-z0-9_.-]{0,63})=(.{0,1024})$/s;
const ENGINE = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const TASK = /^[a-zA-Z0-9]{8,200}$/;
const USER = /^@[^\s:]{1,200}:[^\s]{1,200}$/;
/** Names an object key cannot safely take: `__proto__=x` would vanish from the params. */
const RESERVED = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Parses a message body. Anything not starting with `!` and a letter is not a command.
 * `inThread`: the message is in the thread of a request, so `!status` and `!cancel` may
 * leave out the task. `inReply`: the message replies to another, so `!run` may leave out the
 * CID (the input is the file replied to).
 */
export function parseCommand(body: string, inThread = false, inReply = false): ParseResult {
  const text = body.trim();
  if (!text.startsWith(PREFIX)) return { kind: 'none' };
  // `!!!`, `!?` or `! ` is chat: a command name starts with a letter.
  if (!/^[A-Za-z]/.test(text.slice(PREFIX.length))) return { kind: 'none' };
  if (text.length > MAX_LENGTH) return tooLong(text);
  const [head = '', ...words] = text.slice(PREFIX.length).split(/\s+/).filter(Boolean);
  const spec = COMMANDS.find((c) => c.name === head.toLowerCase());
  if (!spec) {
    const known = COMMANDS.map((c) => PREFIX + c.name).join(', ');
    const shown = head.length > MAX_QUOTE ? `${head.slice(0, MAX_QUOTE)}…` : head;
    return bad(null, `unknown command ${PREFIX}${shown}; commands: ${known}`);
  }
  switch (spec.name) {
    case 'run':
      return parseRun(spec, words, inReply);
    case 'autotranscribe': {
      const [value, ...extra] = words.map((w) => w.toLowerCase());
      if (extra.length > 0 || (value !== 'on' && value !== 'off'))
        return bad(spec, 'say on or off');
      return { kind: 'ok', command: { name: 'autotranscribe', on: value === 'on' } };
    }
    case 'status':
    case 'cancel': {
      const [task, ...extra] = words;
      if (extra.length > 0) return bad(spec, 'too many arguments');
      if (task === undefined && !inThread) return bad(spec, 'name the task');
      if (task !== undefined && !TASK.test(task)) return bad(spec, `not a task id: ${task}`);
      return { kind: 'ok', command: { name: spec.name, task } };
    }
    case 'trust': {
      if (words.length === 0) return { kind: 'ok', command: { name: 'trust' } };
      const [verb, node, ...extra] = words;
      if (verb?.toLowerCase() !== 'release' || !node || extra.length > 0 || !USER.test(node))
        return bad(spec, 'say !trust, or !trust release @node:server');
      return { kind: 'ok', command: { name: 'trust', release: node } };
    }
    default:
      if (words.length > 0) return bad(spec, 'this command takes no arguments');
      return { kind: 'ok', command: { name: spec.name } };
  }
}

function parseRun(spec: CommandSpec, words: string[], inReply: boolean): ParseResult {
  const [engine, ...others] = words;
  if (!engine) return bad(spec, 'missing arguments');
  if (!ENGINE.test(engine)) return bad(spec, `not an engine name: ${engine}`);
  // The CID is the first word that is not a parameter (absent in a reply to a file).
  const cid = others[0] !== undefined && !PARAM.test(others[0]) ? others[0] : undefined;
  if (cid === undefined && !inReply) return bad(spec, 'missing arguments');
  const rest = cid === undefined ? others : others.slice(1);
  const params: Record<string, string> = {};
  for (const word of rest) {
    const m = PARAM.exec(word);
    if (!m) return bad(spec, `parameters are key=value, got: ${word}`);
    const key = m[1] as string;
    if (RESERVED.has(key)) return bad(spec, `${key} is a reserved name, not a parameter`);
    // Keeping one of two values silently would run something other than what was asked.
    if (Object.hasOwn(params, key)) return bad(spec, `parameter ${key} is given twice`);
    params[key] = m[2] as string;
  }
  return {
    kind: 'ok',
    command: { name: 'run', engine, ...(cid === undefined ? {} : { cid }), params },
  };
}

/** An overlong command is refused whatever its words say: its limit, and its usage if known. */
function tooLong(text: string): ParseResult {
  const name = text.slice(PREFIX.length, PREFIX.length + MAX_NAME + 1).split(/\s/, 1)[0] ?? '';
  const spec = COMMANDS.find((c) => c.name === name.toLowerCase()) ?? null;
  return bad(spec, `command too long (at most ${MAX_LENGTH} characters)`);
}

/**
 * What of a command's body is kept while it waits for a coordinator (the request log holds
 * up to 1,000 and saves them to disk, and a body may be 64 KB): all of it when it is within
 * the limit; else its first MAX_LENGTH characters and a mark that no trim removes, which
 * parse to the same refusal as the whole (cut before spaces alone, it could read as valid).
 */
export function keptBody(body: string): string {
  const text = body.trim();
  return text.length > MAX_LENGTH ? `${text.slice(0, MAX_LENGTH)}…` : body;
}

function bad(spec: CommandSpec | null, why: string): ParseResult {
  return { kind: 'usage', spec, message: spec ? wrongUsage(spec, why) : why };
}
