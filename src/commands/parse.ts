import { COMMANDS, type CommandSpec, PREFIX, usage } from './commands.ts';

export type Command =
  | { name: 'run'; engine: string; cid: string; params: Record<string, string> }
  | { name: 'help' };

export type ParseResult =
  | { kind: 'none' }
  | { kind: 'ok'; command: Command }
  | { kind: 'usage'; spec: CommandSpec | null; message: string };

const MAX_LENGTH = 4_000;
const PARAM = /^([A-Za-z_][A-Za-z0-9_.-]{0,63})=(.{0,1024})$/s;
const ENGINE = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** Parses a message body. Anything not starting with `!` is not a command. */
export function parseCommand(body: string): ParseResult {
  const text = body.trim();
  if (!text.startsWith(PREFIX)) return { kind: 'none' };
  if (text.length > MAX_LENGTH) return bad(null, 'command too long');
  const [head = '', ...words] = text.slice(PREFIX.length).split(/\s+/);
  const spec = COMMANDS.find((c) => c.name === head.toLowerCase());
  if (!spec) {
    const known = COMMANDS.map((c) => PREFIX + c.name).join(', ');
    return bad(null, `unknown command ${PREFIX}${head}; commands: ${known}`);
  }
  if (spec.name === 'help') return { kind: 'ok', command: { name: 'help' } };
  return parseRun(spec, words);
}

function parseRun(spec: CommandSpec, words: string[]): ParseResult {
  const [engine, cid, ...rest] = words;
  if (!engine || !cid) return bad(spec, 'missing arguments');
  if (!ENGINE.test(engine)) return bad(spec, `not an engine name: ${engine}`);
  const params: Record<string, string> = {};
  for (const word of rest) {
    const m = PARAM.exec(word);
    if (!m) return bad(spec, `parameters are key=value, got: ${word}`);
    params[m[1] as string] = m[2] as string;
  }
  return { kind: 'ok', command: { name: 'run', engine, cid, params } };
}

function bad(spec: CommandSpec | null, why: string): ParseResult {
  return { kind: 'usage', spec, message: spec ? `${why}. Usage: ${usage(spec)}` : why };
}
