/**
 * Ogg/Opus (voice messages) straight to 16 kHz: libopus decodes at any of its rates, and at
 * 16 kHz it skips the upper band and needs no resampler after it — about 160 ms less per
 * minute of audio than decoding at 48 kHz and resampling (measured on this machine: 100 ms
 * against 136 + 125 ms). The Ogg pages are read by codec-parser, the demuxer
 * audio-decode's own Opus decoder bundles; the packets by @audio/decode-opus's libopus.
 * Pre-skip and the end of the last page are applied at the output rate, as the Ogg Opus
 * spec (RFC 7845) gives them at 48 kHz.
 */
import { createOpusDecoder, type OpusPacketDecoder } from '@audio/decode-opus/core';
import CodecParser, { type OggPage, type OpusHeader } from 'codec-parser';

/** Opus's own rate: granule positions and pre-skip count in it. */
export const OPUS_RATE = 48_000;

export interface DecodedPiece {
  channelData: Float32Array[];
  sampleRate: number;
}

/** Decodes Ogg/Opus pieces at `rate`; throws on a stream that is not Opus. */
export async function* decodeOggOpus(
  chunks: AsyncIterable<Uint8Array>,
  rate: 8000 | 12000 | 16000 | 24000 | 48000,
): AsyncGenerator<DecodedPiece> {
  const parser = new CodecParser<OggPage>('audio/ogg', {
    onCodec: (codec) => {
      if (codec !== 'opus') throw new Error(`unsupported codec in Ogg: ${codec}`);
    },
    enableFrameCRC32: false,
  });
  const decoder = await createOpusDecoder();
  const stream = { decoder, rate, preSkip: 0, configured: false, decoded: 0 };
  try {
    for await (const chunk of chunks) {
      for (const page of pages(parser.parseChunk(chunk))) {
        const piece = decodePage(stream, page);
        if (piece) yield piece;
      }
    }
    for (const page of pages(parser.flush())) {
      const piece = decodePage(stream, page);
      if (piece) yield piece;
    }
  } finally {
    decoder.free();
  }
}

/** codec-parser's generators, typed as bare iterators. */
function* pages(it: Iterator<OggPage>): Generator<OggPage> {
  for (let r = it.next(); !r.done; r = it.next()) yield r.value;
}

interface Stream {
  decoder: OpusPacketDecoder;
  rate: number;
  /** Pre-skip of the current logical stream, at 48 kHz. */
  preSkip: number;
  configured: boolean;
  /** Samples given out for the current logical stream, at `rate`. */
  decoded: number;
}

function decodePage(s: Stream, page: OggPage): DecodedPiece | null {
  const frames = page.codecFrames ?? [];
  if (frames.length > 0 && !s.configured) configure(s, frames[0]?.header as OpusHeader);
  let piece: DecodedPiece | null = null;
  if (frames.length > 0) {
    const out = s.decoder.decodeFrames(frames.map((f) => f.data));
    if (out.samplesDecoded > 0) piece = { channelData: out.channelData, sampleRate: s.rate };
  }
  if (page.isLastPage) {
    // The last page's granule position says where the stream ends: the rest is padding.
    if (piece) piece = trimmed(s, piece, page.absoluteGranulePosition);
    s.decoder.unconfigure();
    s.configured = false;
    s.decoded = 0;
    return piece;
  }
  if (piece) s.decoded += piece.channelData[0]?.length ?? 0;
  return piece;
}

function configure(s: Stream, h: OpusHeader): void {
  s.preSkip = h.preSkip;
  s.decoder.configure({
    sampleRate: s.rate as 16000,
    channels: h.channels,
    streamCount: h.streamCount,
    coupledStreamCount: h.coupledStreamCount,
    channelMappingTable: h.channelMappingTable,
    // libopus's wrapper skips this many samples at the output rate.
    preSkip: Math.round((h.preSkip * s.rate) / OPUS_RATE),
    outputGain: h.outputGain,
  });
  s.configured = true;
  s.decoded = 0;
}

function trimmed(s: Stream, piece: DecodedPiece, granule: number): DecodedPiece {
  const total = Math.floor(((Number(granule) - s.preSkip) * s.rate) / OPUS_RATE);
  const keep = Math.max(0, total - s.decoded);
  const n = piece.channelData[0]?.length ?? 0;
  if (!Number.isFinite(total) || keep >= n) return piece;
  return { ...piece, channelData: piece.channelData.map((c) => c.subarray(0, keep)) };
}
