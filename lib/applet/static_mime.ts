/**
 * Content types of static files by extension: a small built-in table (the
 * web's usual types); anything else is `application/octet-stream`. Text
 * types say `charset=utf-8`.
 *
 * @module
 */

const TYPES: Readonly<Record<string, string>> = {
  html: "text/html; charset=utf-8",
  htm: "text/html; charset=utf-8",
  css: "text/css; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  mjs: "text/javascript; charset=utf-8",
  json: "application/json; charset=utf-8",
  txt: "text/plain; charset=utf-8",
  xml: "application/xml; charset=utf-8",
  svg: "image/svg+xml; charset=utf-8",
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
  avif: "image/avif",
  ico: "image/x-icon",
  woff: "font/woff",
  woff2: "font/woff2",
  wasm: "application/wasm",
  pdf: "application/pdf",
  mp4: "video/mp4",
  webm: "video/webm",
};

/** The type of data with no known extension. */
export const DEFAULT_TYPE = "application/octet-stream";

/** The Content-Type of a file named `name` (its extension, case-insensitive). */
export function mimeType(name: string): string {
  const dot = name.lastIndexOf(".");
  if (dot < 0 || name.indexOf("/", dot) >= 0) return DEFAULT_TYPE;
  return TYPES[name.slice(dot + 1).toLowerCase()] ?? DEFAULT_TYPE;
}
