/**
 * Whether a GIF's blocks run whole to its end. libvips' GIF loader shows a GIF cut short as a shorter
 * animation (whatever frames are complete) rather than refusing it, so the sniff walks the blocks itself: a
 * file that ends inside a block is truncated. A missing trailer byte alone is tolerated, as browsers do.
 */
export const gifIsWhole = (bytes: Buffer): boolean => {
  const colourTableSize = (flags: number) => (flags & 0x80 ? 3 * 2 ** ((flags & 0x07) + 1) : 0);
  if (bytes.length < 13) return false;
  let at = 13 + colourTableSize(bytes[10] ?? 0);

  /** Skips a chain of data sub-blocks; false when the file ends before its terminating empty block. */
  const skipSubBlocks = (): boolean => {
    while (at < bytes.length) {
      const size = bytes[at] ?? 0;
      at += 1 + size;
      if (size === 0) return true;
    }
    return false;
  };

  while (at < bytes.length) {
    const introducer = bytes[at];
    if (introducer === 0x3b) return true;
    if (introducer === 0x21) {
      at += 2; // introducer and label
    } else if (introducer === 0x2c) {
      if (at + 10 > bytes.length) return false;
      // The image descriptor (10 bytes), its colour table, then the LZW minimum code size.
      at += 10 + colourTableSize(bytes[at + 9] ?? 0) + 1;
    } else return false;
    if (!skipSubBlocks()) return false;
  }
  return at === bytes.length;
};
