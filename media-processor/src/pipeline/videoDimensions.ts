/**
 * A video's frame size read from its container, as sharp cannot decode video: an MP4's first track header
 * (`moov/trak/tkhd`) with a non-zero size, a WebM's first `Tracks/TrackEntry/Video` PixelWidth and
 * PixelHeight. Undefined when the container does not say.
 */
export type Dimensions = { width: number; height: number };

const positive = (width: number, height: number): Dimensions | undefined =>
  width >= 1 && height >= 1 ? { width, height } : undefined;

/** ISO BMFF boxes between `start` and `end`: [type, content start, box end]. */
function* boxes(bytes: Buffer, start: number, end: number): Generator<[string, number, number]> {
  let at = start;
  while (at + 8 <= end) {
    let size = bytes.readUInt32BE(at);
    let header = 8;
    if (size === 1 && at + 16 <= end) {
      size = Number(bytes.readBigUInt64BE(at + 8));
      header = 16;
    } else if (size === 0) size = end - at;
    if (size < header || at + size > end) return;
    yield [bytes.toString('latin1', at + 4, at + 8), at + header, at + size];
    at += size;
  }
}

/** How deep a container is searched: the boxes and elements read are at most four levels down. */
const MAX_DEPTH = 4;

const mp4Dimensions = (bytes: Buffer, start: number, end: number, depth: number): Dimensions | undefined => {
  for (const [type, contentStart, boxEnd] of boxes(bytes, start, end)) {
    if ((type === 'moov' || type === 'trak') && depth < MAX_DEPTH) {
      const found = mp4Dimensions(bytes, contentStart, boxEnd, depth + 1);
      if (found) return found;
    } else if (type === 'tkhd' && boxEnd - contentStart >= 84) {
      // The track's width and height, 16.16 fixed point, are the header's last eight bytes.
      const found = positive(bytes.readUInt32BE(boxEnd - 8) >>> 16, bytes.readUInt32BE(boxEnd - 4) >>> 16);
      if (found) return found;
    }
  }
  return undefined;
};

/** An EBML variable-length integer at `at`: its value and length; `unknown` for an all-ones size. */
const vint = (bytes: Buffer, at: number, keepMarker: boolean) => {
  const first = bytes[at] ?? 0;
  const length = Math.clz32(first) - 23;
  if (length < 1 || length > 8 || at + length > bytes.length) return undefined;
  let value = keepMarker ? first : first & (0xff >> length);
  let allOnes = value === 0xff >> length;
  for (let index = 1; index < length; index++) {
    const byte = bytes[at + index] ?? 0;
    value = value * 256 + byte;
    allOnes &&= byte === 0xff;
  }
  return { value, length, unknown: !keepMarker && allOnes };
};

const EBML = {
  segment: 0x18538067,
  tracks: 0x1654ae6b,
  trackEntry: 0xae,
  video: 0xe0,
  width: 0xb0,
  height: 0xba,
};
const PATH_TO_VIDEO = new Set([EBML.segment, EBML.tracks, EBML.trackEntry, EBML.video]);

/** An unsigned big-endian integer of `length` bytes (EBML allows up to eight; more than 2^53 is nonsense here). */
const uint = (bytes: Buffer, start: number, length: number): number => {
  let value = 0;
  for (let index = 0; index < length; index++) value = value * 256 + (bytes[start + index] ?? 0);
  return value;
};

const webmDimensions = (bytes: Buffer, start: number, end: number, depth: number): Dimensions | undefined => {
  let width = 0;
  let height = 0;
  let at = start;
  while (at < end) {
    const id = vint(bytes, at, true);
    const size = id && vint(bytes, at + id.length, false);
    if (!id || !size) return undefined;
    const contentStart = at + id.length + size.length;
    const contentEnd = size.unknown ? end : Math.min(end, contentStart + size.value);
    if (PATH_TO_VIDEO.has(id.value) && depth < MAX_DEPTH) {
      const found = webmDimensions(bytes, contentStart, contentEnd, depth + 1);
      if (found) return found;
    } else if (size.unknown) return undefined;
    else if (id.value === EBML.width) width = uint(bytes, contentStart, Math.min(8, size.value));
    else if (id.value === EBML.height) height = uint(bytes, contentStart, Math.min(8, size.value));
    at = contentEnd;
  }
  return positive(width, height);
};

export const videoDimensions = (bytes: Buffer, container: 'mp4' | 'webm'): Dimensions | undefined =>
  container === 'mp4' ? mp4Dimensions(bytes, 0, bytes.length, 0) : webmDimensions(bytes, 0, bytes.length, 0);
