import { ConfigError } from '../errors/index.ts';

/** What `readSecret` needs of a terminal: process.stdin is one. */
export interface SecretInput {
  isTTY?: boolean;
  setRawMode(raw: boolean): unknown;
  setEncoding(encoding: BufferEncoding): unknown;
  on(event: 'data', listener: (chunk: string) => void): unknown;
  off(event: 'data', listener: (chunk: string) => void): unknown;
  resume(): unknown;
  pause(): unknown;
}

const ENTER = new Set(['\r', '\n', '\u0004']); // Ctrl-D ends the line too
const ERASE = new Set(['\u007f', '\b']);
const CTRL_C = '\u0003';
const CTRL_U = '\u0015';

/**
 * Reads one line from a terminal without echoing it: a password typed at a prompt must not
 * stay on the screen (or in a terminal recording). The terminal is in raw mode meanwhile, so
 * Enter, Backspace, Ctrl-U (erase all) and Ctrl-C (cancel) are handled here; other control
 * characters are ignored. Raw mode is left in every case.
 */
export function readSecret(
  prompt: string,
  input: SecretInput,
  output: { write(s: string): unknown },
): Promise<string> {
  output.write(prompt);
  input.setEncoding('utf8');
  input.setRawMode(true);
  input.resume();
  let typed = '';
  return new Promise<string>((resolve, reject) => {
    const done = (err: Error | null) => {
      input.off('data', onData);
      input.setRawMode(false);
      input.pause();
      output.write('\n');
      if (err) reject(err);
      else resolve(typed);
    };
    const onData = (chunk: string) => {
      // A paste arrives as one chunk: every character counts on its own.
      for (const ch of chunk) {
        if (ENTER.has(ch)) return done(null);
        if (ch === CTRL_C) return done(new ConfigError('meshbot init cancelled'));
        if (ERASE.has(ch)) typed = [...typed].slice(0, -1).join('');
        else if (ch === CTRL_U) typed = '';
        else if (ch >= ' ') typed += ch;
      }
    };
    input.on('data', onData);
  });
}
