/**
 * Just enough PNG reading to check a browser screenshot: the IHDR header,
 * and a histogram of the pixel colours (8-bit RGB or RGBA, not interlaced:
 * what Chromium writes), inflated with node:zlib.
 */
import { inflateSync } from "node:zlib";
import { concat } from "./net.ts";

/** The IHDR fields that matter here. */
export interface PngHeader {
  width: number;
  height: number;
  bitDepth: number;
  /** 0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA. */
  colorType: number;
  interlace: number;
}

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** The chunks of `png` as [type, data] (CRCs are not checked). Throws on a bad file. */
function pngChunks(png: Uint8Array): [string, Uint8Array][] {
  if (png.length < 8 || SIGNATURE.some((b, i) => png[i] !== b)) {
    throw new Error("Not a PNG: bad signature");
  }
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const chunks: [string, Uint8Array][] = [];
  let off = 8;
  while (off + 12 <= png.length) {
    const len = view.getUint32(off);
    const type = String.fromCharCode(...png.subarray(off + 4, off + 8));
    if (off + 12 + len > png.length) throw new Error(`Truncated PNG chunk "${type}"`);
    chunks.push([type, png.subarray(off + 8, off + 8 + len)]);
    off += 12 + len;
    if (type === "IEND") return chunks;
  }
  throw new Error("Truncated PNG: no IEND");
}

/** The IHDR of `png`, which must be its first chunk. Throws on a bad file. */
export function pngHeader(png: Uint8Array): PngHeader {
  const [type, d] = pngChunks(png)[0] ?? ["", new Uint8Array(0)];
  if (type !== "IHDR" || d.length !== 13) throw new Error("Bad PNG: first chunk is not IHDR");
  const view = new DataView(d.buffer, d.byteOffset, d.byteLength);
  return {
    width: view.getUint32(0),
    height: view.getUint32(4),
    bitDepth: d[8],
    colorType: d[9],
    interlace: d[12],
  };
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/**
 * Pixel count per colour (0xRRGGBB; alpha is ignored) of an 8-bit RGB or
 * RGBA, non-interlaced PNG. Throws on any other kind, naming it.
 */
export function pngColors(png: Uint8Array): Map<number, number> {
  const h = pngHeader(png);
  if (h.bitDepth !== 8 || (h.colorType !== 2 && h.colorType !== 6) || h.interlace !== 0) {
    throw new Error(
      `Unsupported PNG: bit depth ${h.bitDepth}, colour type ${h.colorType}, interlace ${h.interlace}`,
    );
  }
  const bpp = h.colorType === 6 ? 4 : 3;
  const stride = h.width * bpp;
  const idat = pngChunks(png).filter(([t]) => t === "IDAT").map(([, d]) => d);
  const raw = new Uint8Array(inflateSync(concat(idat)));
  if (raw.length < (stride + 1) * h.height) throw new Error("Truncated PNG image data");
  // Undo the per-row filters in place; `prev` is the row above, already unfiltered.
  let prev = new Uint8Array(stride);
  const colors = new Map<number, number>();
  for (let y = 0; y < h.height; y++) {
    const filter = raw[y * (stride + 1)];
    const row = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? row[i - bpp] : 0, b = prev[i], c = i >= bpp ? prev[i - bpp] : 0;
      switch (filter) {
        case 0:
          break;
        case 1:
          row[i] = row[i] + a;
          break;
        case 2:
          row[i] = row[i] + b;
          break;
        case 3:
          row[i] = row[i] + ((a + b) >> 1);
          break;
        case 4:
          row[i] = row[i] + paeth(a, b, c);
          break;
        default:
          throw new Error(`Bad PNG: filter ${filter} on row ${y}`);
      }
    }
    for (let i = 0; i < stride; i += bpp) {
      const rgb = (row[i] << 16) | (row[i + 1] << 8) | row[i + 2];
      colors.set(rgb, (colors.get(rgb) ?? 0) + 1);
    }
    prev = row;
  }
  return colors;
}
