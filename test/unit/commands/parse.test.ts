import { describe, expect, it } from 'vitest';
import { helpText } from '../../../src/commands/commands.ts';
import { keptBody, parseCommand } from '../../../src/commands/parse.ts';

describe('the command parser', () => {
  it('leaves ordinary chat alone', () => {
    expect(parseCommand('hello there')).toEqual({ kind: 'none' });
  });

  it('reads `!run <engine> <cid> key=value`', () => {
    expect(parseCommand('  !run wordcount bafyabc lang=de model=base.en ')).toEqual({
      kind: 'ok',
      command: {
        name: 'run',
        engine: 'wordcount',
        cid: 'bafyabc',
        params: { lang: 'de', model: 'base.en' },
      },
    });
  });

  it('answers missing arguments with the usage', () => {
    const r = parseCommand('!run wordcount');
    expect(r.kind).toBe('usage');
    expect(r.kind === 'usage' && r.message).toBe(
      'missing arguments. Usage: !run <engine> <cid> [key=value ...]',
    );
  });

  it('takes `!run whisper` without a CID only in a reply (the input is the audio replied to)', () => {
    expect(parseCommand('!run whisper model=tiny', false, true)).toEqual({
      kind: 'ok',
      command: { name: 'run', engine: 'whisper', params: { model: 'tiny' } },
    });
    expect(parseCommand('!run whisper model=tiny').kind).toBe('usage');
  });

  it('reads `!autotranscribe on|off` and answers anything else with its usage', () => {
    expect(parseCommand('!autotranscribe ON')).toEqual({
      kind: 'ok',
      command: { name: 'autotranscribe', on: true },
    });
    const r = parseCommand('!autotranscribe maybe');
    expect(r.kind === 'usage' && r.message).toBe('say on or off. Usage: !autotranscribe <on|off>');
  });

  it('rejects a parameter that is not key=value', () => {
    const r = parseCommand('!run wordcount bafyabc oops');
    expect(r.kind === 'usage' && r.message).toContain('parameters are key=value, got: oops');
  });

  it('names the known commands for an unknown one', () => {
    const r = parseCommand('!frobnicate');
    expect(r.kind === 'usage' && r.message).toBe(
      'unknown command !frobnicate; commands: !run, !status, !cancel, !mesh, !trust, !autotranscribe, !help',
    );
  });

  it('rejects engine names with odd characters and overlong commands', () => {
    expect(parseCommand('!run ../etc bafy').kind).toBe('usage');
    expect(parseCommand(`!run wordcount ${'x'.repeat(5000)}`).kind).toBe('usage');
  });

  it('answers an overlong command with its limit and, for a known command, its usage', () => {
    const r = parseCommand(`!run wordcount bafy ${'k=v '.repeat(1_500)}`);
    expect(r.kind === 'usage' && r.message).toBe(
      'command too long (at most 4000 characters). Usage: !run <engine> <cid> [key=value ...]',
    );
    const unknown = parseCommand(`!frob ${'x'.repeat(5_000)}`);
    expect(unknown.kind === 'usage' && unknown.message).toBe(
      'command too long (at most 4000 characters)',
    );
  });

  it('keeps of an overlong command only what parses to the same answer', () => {
    for (const body of [
      `!run wordcount ${'x'.repeat(60_000)}`,
      // Cut where only spaces follow, the rest would read as a valid `!run`.
      `!run wordcount bafy${' '.repeat(5_000)}x=1`,
      `  !help ${'y'.repeat(4_001)}  `,
    ]) {
      const kept = keptBody(body);
      expect(kept.length).toBeLessThanOrEqual(4_001);
      expect(parseCommand(kept, true, true)).toEqual(parseCommand(body, true, true));
    }
    expect(keptBody('!run wordcount bafy')).toBe('!run wordcount bafy');
  });

  it('generates help from the command descriptions', () => {
    const text = helpText([{ name: 'wordcount', description: 'counts words' }]);
    expect(text).toContain('!run <engine> <cid> [key=value ...]');
    expect(text).toContain('wordcount — counts words');
  });
});

describe('the coordination commands', () => {
  it('reads `!status <task>` and `!cancel <task>`, or no task inside a thread', () => {
    expect(parseCommand('!status bafytask123')).toEqual({
      kind: 'ok',
      command: { name: 'status', task: 'bafytask123' },
    });
    expect(parseCommand('!cancel', true)).toEqual({ kind: 'ok', command: { name: 'cancel' } });
    const r = parseCommand('!cancel');
    expect(r.kind === 'usage' && r.message).toBe('name the task. Usage: !cancel <task>');
  });

  it('answers arguments to `!mesh` with its usage', () => {
    const r = parseCommand('!mesh now');
    expect(r.kind === 'usage' && r.message).toContain('Usage: !mesh');
  });
});

describe('!trust', () => {
  it('takes nothing, or release and a node', () => {
    expect(parseCommand('!trust')).toEqual({ kind: 'ok', command: { name: 'trust' } });
    expect(parseCommand('!trust me').kind).toBe('usage');
    expect(parseCommand('!trust release @bot3:example.org')).toEqual({
      kind: 'ok',
      command: { name: 'trust', release: '@bot3:example.org' },
    });
    expect(parseCommand('!trust release bot3').kind).toBe('usage');
  });
});

describe('what is not a command at all', () => {
  it('a `!` followed by anything but a letter is chat, not a command', () => {
    for (const body of ['!!!', '!', '! run wordcount x', '!1', '!?', '!…', '!@#$ what']) {
      expect(parseCommand(body)).toEqual({ kind: 'none' });
    }
  });

  it('an unknown command is quoted short in the reply', () => {
    const r = parseCommand(`!${'x'.repeat(3_000)}`);
    expect(r.kind).toBe('usage');
    const message = r.kind === 'usage' ? r.message : '';
    expect(message).toMatch(/^unknown command !x{60}…; commands: !run/);
    expect(message.length).toBeLessThan(300);
  });
});

describe('`!run` parameters that would be lost', () => {
  it('a key given twice is refused, not the last one kept', () => {
    const r = parseCommand('!run wordcount bafyabc a=1 a=2');
    expect(r.kind).toBe('usage');
    expect(r.kind === 'usage' && r.message).toMatch(/^parameter a is given twice\. Usage: !run/);
  });

  it('a reserved key name is refused, not dropped', () => {
    for (const key of ['__proto__', 'constructor', 'prototype']) {
      const r = parseCommand(`!run wordcount bafyabc ${key}=x`);
      expect(r.kind).toBe('usage');
      expect(r.kind === 'usage' && r.message).toContain(`${key} is a reserved name`);
    }
  });
});
