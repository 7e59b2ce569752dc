/** The parameters of `!run whisper <cid> [model=base] [lang=de] [timestamps=yes]`. */
import { EngineBadInputError } from '../engines/errors.ts';

export interface WhisperParams {
  model: string;
  /** A language code, or 'auto' (detect). */
  language: string;
  timestamps: boolean;
  /** Set on the parts of a split recording: where the part starts in the whole. */
  part?: { index: number; count: number; offsetMs: number };
}

const KNOWN = ['model', 'lang', 'timestamps', 'part', 'offsetMs'];
const LANG = /^(auto|[a-z]{2,3})$/;
const YES = new Set(['yes', 'true', '1', 'on']);
const NO = new Set(['no', 'false', '0', 'off']);

export function parseWhisperParams(
  params: Record<string, string>,
  defaultModel: string,
): WhisperParams {
  const bad = (why: string) => new EngineBadInputError('whisper', why);
  const unknown = Object.keys(params).filter((k) => !KNOWN.includes(k));
  if (unknown.length > 0) {
    throw bad(`unknown parameter ${unknown.join(', ')}; whisper takes model=, lang=, timestamps=`);
  }
  const model = params.model ?? defaultModel;
  if (!/^[a-z0-9][a-z0-9._-]{0,63}$/i.test(model)) throw bad(`not a model name: ${model}`);
  // English-only models know one language; the others detect it unless told.
  const language = (params.lang ?? (model.endsWith('.en') ? 'en' : 'auto')).toLowerCase();
  if (!LANG.test(language)) throw bad(`lang is a language code like en or de, or auto`);
  // An English-only model writes English whatever it hears (whisper.cpp is told 'en'): German
  // audio came back as made-up English, labelled en. The default model is one of these.
  if (model.endsWith('.en') && language !== 'en' && language !== 'auto') {
    throw bad(
      `lang=${language} needs a multilingual model: ${model} knows English only (try model=${model.slice(0, -3)})`,
    );
  }
  const ts = (params.timestamps ?? 'no').toLowerCase();
  if (!YES.has(ts) && !NO.has(ts)) throw bad('timestamps is yes or no');
  const out: WhisperParams = { model, language, timestamps: YES.has(ts) };
  if (params.part !== undefined) out.part = parsePart(params.part, params.offsetMs, bad);
  return out;
}

function parsePart(
  part: string,
  offset: string | undefined,
  bad: (why: string) => Error,
): NonNullable<WhisperParams['part']> {
  const m = /^(\d{1,5})\/(\d{1,5})$/.exec(part);
  const offsetMs = Number(offset ?? 'x');
  if (!m || !Number.isInteger(offsetMs) || offsetMs < 0) throw bad('part=i/n needs offsetMs=');
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (index < 1 || index > count) throw bad(`part ${part} is out of range`);
  return { index, count, offsetMs };
}

/** The parameters of part `index` (1-based) of `count`, starting at `offsetMs`. */
export function partParams(
  parent: Record<string, string>,
  index: number,
  count: number,
  offsetMs: number,
): Record<string, string> {
  return { ...parent, part: `${index}/${count}`, offsetMs: String(Math.round(offsetMs)) };
}
