/** Real speech for the whisper tests, made with espeak-ng, sox and ffmpeg (scripts/audio/install.sh). */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** `text` spoken, as `<dir>/<name>.<ext>` (ogg: Opus in Ogg, as Element's voice messages). */
export async function speech(
  dir: string,
  name: string,
  text: string,
  ext = 'ogg',
): Promise<string> {
  const wav = join(dir, `${name}.src.wav`);
  await run('espeak-ng', ['-w', wav, text]);
  return convert(wav, join(dir, `${name}.${ext}`));
}

/** About `seconds` of speech: `text` spoken again and again with two seconds of silence between. */
export async function longSpeech(
  dir: string,
  name: string,
  text: string,
  seconds: number,
): Promise<string> {
  const once = join(dir, `${name}.once.wav`);
  await run('espeak-ng', ['-w', once, text]);
  const { stdout } = await run('soxi', ['-D', once]);
  const each = Number(stdout.trim()) + 2;
  const repeats = Math.max(0, Math.ceil(seconds / each) - 1);
  const long = join(dir, `${name}.long.wav`);
  await run('sox', [
    once,
    long,
    'pad',
    '0',
    '2',
    'repeat',
    String(repeats),
    'trim',
    '0',
    String(seconds),
  ]);
  return convert(long, join(dir, `${name}.ogg`));
}

async function convert(wav: string, out: string): Promise<string> {
  if (out.endsWith('.wav')) {
    await run('sox', [wav, out]);
    return out;
  }
  const codec = out.endsWith('.ogg') ? ['-c:a', 'libopus', '-b:a', '32k'] : [];
  await run('ffmpeg', ['-loglevel', 'error', '-y', '-i', wav, ...codec, out]);
  return out;
}
