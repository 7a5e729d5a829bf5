import { crc32, createDeflate } from 'node:zlib';
import sharp from 'sharp';

/** Test media made on the spot: real images from sharp, and containers and bombs written byte by byte. */

/** A picture with shapes and a gradient, so encoders have real work to do; `hue` makes it differ. */
const sceneSvg = (width: number, height: number, hue: number): Buffer =>
  Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">` +
      `<defs><linearGradient id="g"><stop offset="0" stop-color="hsl(${hue},70%,40%)"/>` +
      `<stop offset="1" stop-color="hsl(${(hue + 120) % 360},70%,60%)"/></linearGradient></defs>` +
      `<rect width="100%" height="100%" fill="url(#g)"/>` +
      `<circle cx="${width / 3}" cy="${height / 2}" r="${Math.min(width, height) / 4}" fill="hsl(${(hue + 240) % 360},80%,50%)"/>` +
      `<rect x="${width / 2}" y="${height / 4}" width="${width / 3}" height="${height / 2}" fill="white" opacity="0.6"/>` +
      `</svg>`,
  );

export const makePng = (width: number, height: number, hue = 200) =>
  sharp(sceneSvg(width, height, hue))
    .png()
    .toBuffer();

export const makeJpeg = (width: number, height: number, hue = 30) =>
  sharp(sceneSvg(width, height, hue))
    .jpeg({ quality: 85 })
    .toBuffer();

/** A JPEG stored `width`×`height` with EXIF orientation 6: shown turned a quarter, `height`×`width`. */
export const makeRotatedJpeg = (width: number, height: number) =>
  sharp(sceneSvg(width, height, 90))
    .jpeg()
    .withMetadata({ orientation: 6 })
    .toBuffer();

export const makeAvif = (width: number, height: number) =>
  sharp(sceneSvg(width, height, 300))
    .avif({ effort: 0 })
    .toBuffer();

const frames = (width: number, height: number, count: number) =>
  Promise.all(
    Array.from({ length: count }, (_, frame) =>
      sharp(sceneSvg(width, height, (frame * 360) / count))
        .png()
        .toBuffer(),
    ),
  );

export const makeAnimatedWebp = async (width: number, height: number, count: number) =>
  sharp(await frames(width, height, count), { join: { animated: true } })
    .webp({ delay: Array.from({ length: count }, () => 100), loop: 0 })
    .toBuffer();

export const makeAnimatedGif = async (width: number, height: number, count: number) =>
  sharp(await frames(width, height, count), { join: { animated: true } })
    .gif({ delay: Array.from({ length: count }, () => 100) })
    .toBuffer();

/**
 * An animated WebP of `count` frames of `size`×`size`, cheap to encode (a square moving across a flat
 * background), for tests that need an animation whose frames together pass the pixel limit.
 */
export const makeLongAnimation = async (size: number, count: number) => {
  const square = await sharp({ create: { width: 64, height: 64, channels: 3, background: 'white' } })
    .png()
    .toBuffer();
  const frames = await Promise.all(
    Array.from({ length: count }, (_, frame) =>
      sharp({ create: { width: size, height: size, channels: 3, background: 'navy' } })
        .composite([{ input: square, left: (frame * 15) % (size - 64), top: (frame * 15) % (size - 64) }])
        .png({ compressionLevel: 1 })
        .toBuffer(),
    ),
  );
  return sharp(frames, { join: { animated: true } })
    .webp({ effort: 0, quality: 10 })
    .toBuffer();
};

const pngChunk = (type: string, data: Buffer): Buffer => {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const framing = Buffer.alloc(8);
  framing.writeUInt32BE(data.length, 0);
  framing.writeUInt32BE(crc32(body), 4);
  return Buffer.concat([framing.subarray(0, 4), body, framing.subarray(4)]);
};

/** Adam7's seven passes: where each starts and how far apart its pixels are, across and down. */
const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
] as const;

/** How many bytes of pixel data a grey image has before deflating: each row a filter byte and its pixels. */
const pixelDataLength = (side: number, interlaced: boolean): number => {
  let length = 0;
  for (const [x0, y0, dx, dy] of interlaced ? ADAM7 : [[0, 0, 1, 1] as const]) {
    const columns = Math.ceil((side - x0) / dx);
    const rows = Math.ceil((side - y0) / dy);
    if (columns > 0 && rows > 0) length += rows * (1 + columns);
  }
  return length;
};

/**
 * A valid greyscale PNG of `side`×`side` black pixels: 30000 gives 900 MB of pixels in under 1 MB of file.
 * Interlaced (Adam7), a decoder cannot stream it row by row: it must hold the whole image. Its pixel data is
 * deflated a few MB at a time, so making it never holds the pixels.
 */
export const makeDecompressionBomb = async (
  side: number,
  options = { interlaced: false },
): Promise<Buffer> => {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(side, 0);
  header.writeUInt32BE(side, 4);
  header[8] = 8; // bit depth; then colour type 0 (grey), compression 0, filter 0
  header[12] = options.interlaced ? 1 : 0;
  const deflate = createDeflate({ level: 9 });
  const compressed: Buffer[] = [];
  deflate.on('data', (chunk: Buffer) => compressed.push(chunk));
  const ended = new Promise((resolve) => deflate.on('end', resolve));
  // Black pixels and filter bytes 0: the pixel data is all zeros, fed to zlib a few MB at a time.
  const zeros = Buffer.alloc(8 * 1024 * 1024);
  for (let left = pixelDataLength(side, options.interlaced); left > 0; left -= zeros.length) {
    if (!deflate.write(zeros.subarray(0, Math.min(left, zeros.length)))) {
      await new Promise((resolve) => deflate.once('drain', resolve));
    }
  }
  deflate.end();
  await ended;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', header),
    pngChunk('IDAT', Buffer.concat(compressed)),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
};

const box = (type: string, ...content: Buffer[]): Buffer => {
  const body = Buffer.concat(content);
  const size = Buffer.alloc(4);
  size.writeUInt32BE(8 + body.length);
  return Buffer.concat([size, Buffer.from(type, 'latin1'), body]);
};

const trackHeader = (width: number, height: number): Buffer => {
  const tkhd = Buffer.alloc(84); // version 0: times, track id, duration, layer, volume, matrix, then the size
  tkhd.writeUInt32BE(width * 65536, 76);
  tkhd.writeUInt32BE(height * 65536, 80);
  return box('tkhd', tkhd);
};

/**
 * The frame of an MP4 (no encoder here to make a real one): `ftyp`, then `moov` with an audio track
 * (size 0) and a video track of `width`×`height`, then some media data.
 */
export const makeMp4 = (width: number, height: number): Buffer =>
  Buffer.concat([
    box('ftyp', Buffer.from('isom\0\0\x02\0isomiso2mp41', 'latin1')),
    box('moov', box('trak', trackHeader(0, 0)), box('trak', trackHeader(width, height))),
    box('mdat', Buffer.alloc(4096, 7)),
  ]);

const ebml = (id: number, ...content: Buffer[]): Buffer => {
  const body = Buffer.concat(content);
  const hex = id.toString(16);
  const idBytes = Buffer.from(hex.length % 2 === 0 ? hex : `0${hex}`, 'hex');
  const size = Buffer.alloc(4);
  size.writeUInt32BE(0x10000000 | body.length); // a 4-byte EBML size
  return Buffer.concat([idBytes, size, body]);
};
const uint16 = (value: number) => Buffer.from([value >> 8, value & 0xff]);

/** The frame of a WebM: its EBML header, then a Segment of unknown size holding one VP9 track's Video size. */
export const makeWebm = (width: number, height: number): Buffer =>
  Buffer.concat([
    ebml(
      0x1a45dfa3,
      ebml(0x4286, Buffer.from([1])),
      ebml(0x4282, Buffer.from('webm')),
      ebml(0x4287, Buffer.from([4])),
    ),
    Buffer.from([0x18, 0x53, 0x80, 0x67, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
    ebml(0x1549a966, ebml(0x2ad7b1, Buffer.from([0x0f, 0x42, 0x40]))),
    ebml(
      0x1654ae6b,
      ebml(
        0xae,
        ebml(0xd7, Buffer.from([1])),
        ebml(0x86, Buffer.from('V_VP9')),
        ebml(0xe0, ebml(0xb0, uint16(width)), ebml(0xba, uint16(height))),
      ),
    ),
    ebml(0x1f43b675, ebml(0xe7, Buffer.from([0])), Buffer.alloc(2048, 3)),
  ]);
