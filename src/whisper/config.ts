import { availableParallelism } from 'node:os';
import { z } from 'zod';

/** Where the standard ggml Whisper models are published. */
export const GGML_MODELS_URL = 'https://huggingface.co/ggerganov/whisper.cpp/resolve/main';

/** The sha256 of a file: 64 hex digits (stored lowercase). */
export const sha256Schema = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[0-9a-f]{64}$/, 'a sha256: 64 hex digits');

/** A model name as used in `!run whisper --model <name>` and in file names. */
export const modelNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'a model name: letters, digits, . _ - (at most 64)');

/** Where a model comes from: its pinned sha256 and its public URL. */
export const modelSourceSchema = z.strictObject({
  /** The sha256 of the ggml file; a file that hashes otherwise is never used. */
  sha256: sha256Schema,
  /** Where to download it when no peer has it. */
  url: z.url({ protocol: /^https$/, error: 'an https URL' }),
  /** Its size in bytes, when known: for progress, and a download that grows past it stops. */
  bytes: z.number().int().positive().optional(),
});
export type ModelSource = z.infer<typeof modelSourceSchema>;

const ggml = (name: string, sha256: string, bytes: number): ModelSource => ({
  sha256,
  url: `${GGML_MODELS_URL}/ggml-${name}.bin`,
  bytes,
});

/**
 * The standard ggml models (the SHA-256 of each file, i.e. its Git LFS oid on Hugging Face;
 * the SHA-1 values in whisper.cpp's models/README.md are a different hash).
 *
 * Where the values come from (public repositories, found by exact search; each value agreed in
 * at least three unrelated projects, none disagreed except where noted):
 * - a Nix expression `model = name: sha256: … fetchurl { url = ".../ggml-${name}.bin" }` pinning
 *   tiny, tiny.en, base, base.en, small, small.en and medium as SRI hashes (`sha256-vgfg…` for
 *   tiny, decoded to hex here), and Nix flakes pinning `fetchHF { repo = "ggerganov/whisper.cpp";
 *   name = "ggml-large-v3.bin" / "ggml-large-v3-turbo.bin"; hash = "sha256-ZNGC…" / "sha256-H8cP…" }`;
 * - an SQL migration "Replace the SHA-1 object IDs … with the SHA-256 LFS object IDs published
 *   for the official whisper.cpp model files" (tiny … medium, large-v2, large-v3);
 * - Rust/TypeScript/Swift/Go download manifests that pin these files by sha256 and exact size,
 *   some at Hugging Face revision 5359861c739e955e79d9a303bcbc70fb988958b1 (a `WhisperModel {
 *   name, expected_size, sha256, url }` table; `ArtifactSpec { filename, url, expected_size,
 *   sha256 }`; an Electron `MODEL_MANIFEST` "verified against live HuggingFace LFS metadata"),
 *   and medium.en in `ModelSpec { id: "medium.en", bytes: 1_533_774_781, sha256 }` tables.
 * One Nix flake gives ggml-medium.bin another hash (d7115850…); seven sources give the one used.
 * The search index did not name the repositories, so they cannot be cited by path here.
 */
export const BUILTIN_MODELS: Readonly<Record<string, ModelSource>> = Object.freeze({
  tiny: ggml(
    'tiny',
    'be07e048e1e599ad46341c8d2a135645097a538221678b7acdd1b1919c6e1b21',
    77_691_713,
  ),
  'tiny.en': ggml(
    'tiny.en',
    '921e4cf8686fdd993dcd081a5da5b6c365bfde1162e72b08d75ac75289920b1f',
    77_704_715,
  ),
  base: ggml(
    'base',
    '60ed5bc3dd14eea856493d334349b405782ddcaf0028d4b5df4088345fba2efe',
    147_951_465,
  ),
  'base.en': ggml(
    'base.en',
    'a03779c86df3323075f5e796cb2ce5029f00ec8869eee3fdfb897afe36c6d002',
    147_964_211,
  ),
  small: ggml(
    'small',
    '1be3a9b2063867b937e64e2ec7483364a79917e157fa98c5d94b5c1fffea987b',
    487_601_967,
  ),
  'small.en': ggml(
    'small.en',
    'c6138d6d58ecc8322097e0f987c32f1be8bb0a18532a3f88f734d1bbf9c41e5d',
    487_614_201,
  ),
  medium: ggml(
    'medium',
    '6c14d5adee5f86394037b4e4e8b59f1673b6cee10e3cf0b11bbdbee79c156208',
    1_533_763_059,
  ),
  'medium.en': ggml(
    'medium.en',
    'cc37e93478338ec7700281a7ac30a10128929eb8f427dda2e865faa8f6da4356',
    1_533_774_781,
  ),
  'large-v3': ggml(
    'large-v3',
    '64d182b440b98d5203c4f9bd541544d84c605196c4f7b845dfa11fb23594d1e2',
    3_095_033_483,
  ),
  'large-v3-turbo': ggml(
    'large-v3-turbo',
    '1fc70f774d38eb169993ac391eea357ef47c88757ef72ee5943879b7e8e2bc69',
    1_624_555_275,
  ),
});

const seconds = z.number().positive();
const defaultThreads = () => Math.max(1, Math.min(4, availableParallelism()));

/** Config key `whisper`: the Whisper transcription engine of a node. */
export const whisperConfigSchema = z
  .strictObject({
    /** Whether this node offers the `whisper` engine. */
    enabled: z.boolean().default(true),
    /** CPU threads one transcription uses. Default: min(4, this machine's cores). */
    threads: z.number().int().min(1).max(256).default(defaultThreads),
    /** The model used when a request names none. */
    defaultModel: modelNameSchema.default('base.en'),
    /** Whether a model no peer has may be downloaded from its public `url`. */
    download: z.boolean().default(true),
    /**
     * Models by name: merged over the built-in standard ggml models (tiny … large-v3-turbo), so
     * a name given here replaces the built-in one and new names add models.
     */
    models: z
      .record(modelNameSchema, modelSourceSchema)
      .default({})
      .transform((models): Record<string, ModelSource> => ({ ...BUILTIN_MODELS, ...models })),
    /** Audio longer than this is transcribed in chunks (in parallel across nodes), seconds. */
    splitAboveSeconds: seconds.default(120),
    /** The length of one chunk of split audio, seconds. */
    chunkSeconds: seconds.default(30),
    /** Longest audio accepted, seconds. Default 3 hours. */
    maxAudioSeconds: seconds.default(3 * 60 * 60),
    /** Whether voice messages are transcribed without a command. A room's setting overrides it. */
    autoTranscribe: z.boolean().default(false),
    /**
     * whisper.cpp's temperature fallback step: a segment that decodes badly is decoded again
     * hotter, by this much. 0 decodes once, greedily (faster; tests use it).
     */
    temperatureInc: z.number().min(0).max(1).default(0.2),
    /** Transcripts of audio longer than this also come as .srt and .vtt files, seconds. */
    subtitlesAboveSeconds: seconds.default(60),
  })
  // Checked only once each field is valid: a bad model entry is reported once, at its path.
  .refine((c) => Object.hasOwn(c.models, c.defaultModel), {
    path: ['defaultModel'],
    message: 'not one of the configured models (whisper.models or the built-in ones)',
    when: (payload) => payload.issues.length === 0,
  })
  .refine((c) => c.chunkSeconds <= c.splitAboveSeconds, {
    path: ['chunkSeconds'],
    message: 'must not exceed splitAboveSeconds',
    when: (payload) => payload.issues.length === 0,
  });

export type WhisperConfig = z.infer<typeof whisperConfigSchema>;
export type WhisperConfigInput = z.input<typeof whisperConfigSchema>;
export const WHISPER_DEFAULTS: WhisperConfig = whisperConfigSchema.parse({});
