// What sendPhoto needs from an uploaded image: is it an image Telegram can
// read, and how big is it. Only headers are read, never pixels.

import type { PhotoSize } from "grammy/types";

export interface ImageInfo {
  format: "jpeg" | "png" | "gif" | "webp";
  width: number;
  height: number;
}

/** Format and dimensions from the file header, or undefined when it is not an image Telegram decodes. */
export function readImageInfo(bytes: Buffer): ImageInfo | undefined {
  if (bytes.length >= 24 && bytes.readUInt32BE(0) === 0x89504e47 && bytes.toString("latin1", 12, 16) === "IHDR") {
    return { format: "png", width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
  }
  if (bytes.length >= 10 && bytes.toString("latin1", 0, 4) === "GIF8") {
    return { format: "gif", width: bytes.readUInt16LE(6), height: bytes.readUInt16LE(8) };
  }
  if (bytes.length >= 4 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return readJpeg(bytes);
  if (bytes.length >= 30 && bytes.toString("latin1", 0, 4) === "RIFF" && bytes.toString("latin1", 8, 12) === "WEBP") {
    return readWebp(bytes);
  }
  return undefined;
}

/** Walks the JPEG segments to the first start-of-frame marker. */
function readJpeg(bytes: Buffer): ImageInfo | undefined {
  let offset = 2;
  while (offset + 9 < bytes.length) {
    if (bytes[offset] !== 0xff) return undefined;
    const marker = bytes[offset + 1]!;
    if (marker === 0xff) {
      offset++;
      continue;
    }
    const length = bytes.readUInt16BE(offset + 2);
    // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC) carry the frame size.
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { format: "jpeg", height: bytes.readUInt16BE(offset + 5), width: bytes.readUInt16BE(offset + 7) };
    }
    offset += 2 + length;
  }
  return undefined;
}

function readWebp(bytes: Buffer): ImageInfo | undefined {
  const chunk = bytes.toString("latin1", 12, 16);
  if (chunk === "VP8X") return { format: "webp", width: bytes.readUIntLE(24, 3) + 1, height: bytes.readUIntLE(27, 3) + 1 };
  if (chunk === "VP8L") {
    const bits = bytes.readUInt32LE(21);
    return { format: "webp", width: (bits & 0x3fff) + 1, height: ((bits >> 14) & 0x3fff) + 1 };
  }
  if (chunk === "VP8 ") return { format: "webp", width: bytes.readUInt16LE(26) & 0x3fff, height: bytes.readUInt16LE(28) & 0x3fff };
  return undefined;
}

/** Telegram's documented photo rules: width + height ≤ 10000, aspect ratio ≤ 20. */
export function validPhotoDimensions({ width, height }: ImageInfo): boolean {
  if (width < 1 || height < 1) return false;
  return width + height <= 10_000 && Math.max(width, height) / Math.min(width, height) <= 20;
}

/**
 * The PhotoSize array Telegram returns: thumbnails at 90, 320 and 800 px on
 * the long side where the original is larger, then the photo itself capped at
 * 1280 px. `ids(i)` names each size's file.
 */
export function photoSizes(
  info: ImageInfo,
  byteLength: number,
  ids: (index: number) => { file_id: string; file_unique_id: string },
): PhotoSize[] {
  const longSide = Math.max(info.width, info.height);
  const sides = [90, 320, 800].filter((side) => side < longSide);
  sides.push(Math.min(longSide, 1280));
  return sides.map((side, index) => {
    const scale = side / longSide;
    const width = Math.max(1, Math.round(info.width * scale));
    const height = Math.max(1, Math.round(info.height * scale));
    const fileSize = Math.max(1, Math.round(byteLength * scale * scale));
    return { ...ids(index), file_size: fileSize, width, height };
  });
}
