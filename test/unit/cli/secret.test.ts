import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { readSecret } from '../../../src/cli/secret.ts';

/** A terminal: records raw mode, and takes what the user types as data events. */
class FakeTty extends EventEmitter {
  readonly isTTY = true;
  raw = false;
  setRawMode(raw: boolean) {
    this.raw = raw;
    return this;
  }
  setEncoding() {
    return this;
  }
  resume() {
    return this;
  }
  pause() {
    return this;
  }
  type(s: string) {
    this.emit('data', s);
  }
}

function terminal() {
  const tty = new FakeTty();
  let screen = '';
  const out = { write: (s: string) => (screen += s) };
  return { tty, out, screen: () => screen };
}

describe('reading a password at the terminal', () => {
  it('shows the prompt but not what is typed, and leaves raw mode at Enter', async () => {
    const t = terminal();
    const read = readSecret('Password: ', t.tty, t.out);
    expect(t.tty.raw).toBe(true);
    t.tty.type('s3');
    t.tty.type('cret');
    t.tty.type('\r');
    expect(await read).toBe('s3cret');
    expect(t.screen()).toBe('Password: \n');
    expect(t.tty.raw).toBe(false);
    expect(t.tty.listenerCount('data')).toBe(0);
  });

  it('Backspace erases the last character, Ctrl-U the line; other control characters are ignored', async () => {
    const t = terminal();
    const read = readSecret('Password: ', t.tty, t.out);
    t.tty.type('wrong\u0015pa\u001bsx\u007fsw\bword\n');
    expect(await read).toBe('password');
  });

  it('takes a pasted line in one chunk, up to its end', async () => {
    const t = terminal();
    const read = readSecret('Password: ', t.tty, t.out);
    t.tty.type('pässwörd\r\n');
    expect(await read).toBe('pässwörd');
  });

  it('Ctrl-C cancels, and the terminal is back to normal', async () => {
    const t = terminal();
    const read = readSecret('Password: ', t.tty, t.out);
    t.tty.type('half\u0003');
    await expect(read).rejects.toThrow('cancelled');
    expect(t.tty.raw).toBe(false);
    expect(t.screen()).not.toContain('half');
  });
});
