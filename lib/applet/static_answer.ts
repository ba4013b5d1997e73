/**
 * The response of a static backend to one request, as the bytes a server
 * would send: a head, then literal parts and ranges of an open file (the
 * file is read later, a chunk at a time, by static_sock.ts). HTTP semantics
 * follow nginx: GET and HEAD (else 405), 301 to the slash form of a
 * directory, 304 and 412 from the preconditions, 206 for one range and
 * multipart/byteranges for several, 416 with `Content-Range: bytes *` and
 * the size, precompressed variants with Content-Encoding and Vary.
 *
 * @module
 */
import { REASONS } from "../http/http_reply.ts";
import {
  type CondHeaders,
  etagOf,
  evalConditions,
  type FileMeta,
  httpDate,
  ifRangeHolds,
} from "./static_cond.ts";
import { type Lookup, staticLookup } from "./static_lookup.ts";
import { mimeType } from "./static_mime.ts";
import { staticPath, staticUrlPath } from "./static_path.ts";
import { type ByteRange, parseRange } from "./static_range.ts";
import type { StaticEncoding, StaticSpec } from "./static_types.ts";

/** A part of a response body: literal bytes or a range of the answer's file. */
export type Segment = Uint8Array | { readonly pos: number; readonly len: number };

/** A whole response: what to send, in order, and the file the ranges read (to close after). */
export interface StaticAnswer {
  readonly status: number;
  readonly segs: Segment[];
  readonly file: Deno.FsFile | null;
}

/** The parts of a request a static backend looks at. */
export interface StaticRequest extends CondHeaders {
  method: string;
  target: string;
  range?: string;
  acceptEncoding?: string;
}

const ENC = new TextEncoder();

/** Escapes text for HTML content and attribute values. */
export function htmlEscape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The Date header's value, made once per second. */
let dateSec = -1, dateText = "";
function dateNow(): string {
  const sec = Math.floor(Date.now() / 1000);
  if (sec !== dateSec) {
    dateSec = sec;
    dateText = httpDate(sec * 1000);
  }
  return dateText;
}

/**
 * A head: status line, `date` (an origin server with a clock sends one, RFC
 * 9110 §6.6.1), headers, `connection: close` (a new connection per
 * request), empty line.
 */
function head(status: number, hdrs: [string, string][]): Uint8Array {
  let s = `HTTP/1.1 ${status} ${REASONS[status] ?? STATUS_TEXT[status] ?? "Unknown"}\r\n` +
    `date: ${dateNow()}\r\n`;
  for (const [k, v] of hdrs) s += `${k}: ${v}\r\n`;
  return ENC.encode(s + "connection: close\r\n\r\n");
}

const STATUS_TEXT: Readonly<Record<number, string>> = {
  206: "Partial Content",
  301: "Moved Permanently",
  304: "Not Modified",
  412: "Precondition Failed",
  416: "Range Not Satisfiable",
};

/** A small HTML page for `status`, with `hdrs` (HEAD: the head only). */
function page(status: number, isHead: boolean, hdrs: [string, string][] = []): StaticAnswer {
  const reason = REASONS[status] ?? STATUS_TEXT[status] ?? "";
  const body = ENC.encode(
    `<html><head><title>${status} ${reason}</title></head><body><h1>${status} ${reason}</h1></body></html>\n`,
  );
  const h = head(status, [
    ["content-type", "text/html; charset=utf-8"],
    ["content-length", String(body.length)],
    ...hdrs,
  ]);
  return { status, segs: isHead ? [h] : [h, body], file: null };
}

/** True when `enc` is acceptable per Accept-Encoding (a q of 0 refuses; `*` counts). */
export function acceptsEncoding(header: string | undefined, enc: StaticEncoding): boolean {
  if (header === undefined) return false;
  let star = false;
  for (const item of header.split(",")) {
    const [tok, ...params] = item.trim().toLowerCase().split(";");
    const qp = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
    const q = qp === undefined ? 1 : Number(qp.slice(2));
    const ok = !Number.isNaN(q) && q > 0;
    if (tok.trim() === enc) return ok;
    if (tok.trim() === "*") star = ok;
  }
  return star;
}

/** The listing of a directory. */
function listing(l: Extract<Lookup, { kind: "listing" }>, isHead: boolean): StaticAnswer {
  const title = htmlEscape(staticUrlPath(l.segments, true));
  let html =
    `<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>Index of ${title}</title></head>` +
    `<body><h1>Index of ${title}</h1><hr><pre>\n`;
  if (l.segments.length > 0) html += `<a href="../">../</a>\n`;
  for (const e of l.entries) {
    const name = e.name + (e.dir ? "/" : "");
    html += `<a href="${htmlEscape(encodeURIComponent(e.name) + (e.dir ? "/" : ""))}">${
      htmlEscape(name)
    }</a> ${new Date(e.mtime).toISOString().slice(0, 19).replace("T", " ")} ${
      e.dir ? "-" : e.size
    }\n`;
  }
  const body = ENC.encode(html + "</pre><hr></body></html>\n");
  const h = head(200, [
    ["content-type", "text/html; charset=utf-8"],
    ["content-length", String(body.length)],
  ]);
  return { status: 200, segs: isHead ? [h] : [h, body], file: null };
}

/**
 * Last-Modified and ETag of `meta`, made once per cached file (the cache
 * hands out the same metadata object while the file is unchanged).
 */
const VALIDATORS = new WeakMap<FileMeta, readonly [string, string][]>();
function validatorsOf(meta: FileMeta): [string, string][] {
  let v = VALIDATORS.get(meta);
  if (v === undefined) {
    v = [["last-modified", httpDate(meta.mtime)], ["etag", etagOf(meta)]];
    VALIDATORS.set(meta, v);
  }
  return [...v];
}

/** The response to a file, given its lookup: preconditions, ranges, headers. */
function fileAnswer(
  spec: StaticSpec,
  req: StaticRequest,
  f: Extract<Lookup, { kind: "file" }>,
  isHead: boolean,
): StaticAnswer {
  const { meta, file, bytes } = f;
  /** Bytes `pos`, `len` of the file: a slice of its cached content, or a range read later. */
  const part = (pos: number, len: number): Segment =>
    bytes === null ? { pos, len } : bytes.subarray(pos, pos + len);
  const validators: [string, string][] = validatorsOf(meta);
  if (spec.cacheControl !== null) validators.push(["cache-control", spec.cacheControl]);
  if (spec.precompressed.length > 0) validators.push(["vary", "Accept-Encoding"]);
  const cond = evalConditions(req, meta);
  if (cond !== 0) {
    file?.close();
    if (cond === 304) return { status: 304, segs: [head(304, validators)], file: null };
    return page(412, isHead);
  }
  const type = mimeType(f.name);
  const common: [string, string][] = [...validators, ["accept-ranges", "bytes"]];
  if (f.encoding !== null) common.push(["content-encoding", f.encoding]);
  const size = meta.size;
  let ranges: ByteRange[] | "unsatisfiable" | null = null;
  if (req.range !== undefined && ifRangeHolds(req, meta)) ranges = parseRange(req.range, size);
  if (ranges === "unsatisfiable") {
    file?.close();
    return page(416, isHead, [["content-range", `bytes */${size}`]]);
  }
  if (ranges === null) {
    const h = head(200, [["content-type", type], ["content-length", String(size)], ...common]);
    if (isHead || size === 0) {
      file?.close();
      return { status: 200, segs: [h], file: null };
    }
    return { status: 200, segs: [h, part(0, size)], file };
  }
  if (ranges.length === 1) {
    const r = ranges[0], len = r.end - r.start + 1;
    const h = head(206, [
      ["content-type", type],
      ["content-length", String(len)],
      ["content-range", `bytes ${r.start}-${r.end}/${size}`],
      ...common,
    ]);
    if (isHead) {
      file?.close();
      return { status: 206, segs: [h], file: null };
    }
    return { status: 206, segs: [h, part(r.start, len)], file };
  }
  const boundary = crypto.randomUUID().replaceAll("-", "");
  const body: Segment[] = [];
  let total = 0;
  for (const r of ranges) {
    const sep = ENC.encode(
      `\r\n--${boundary}\r\ncontent-type: ${type}\r\ncontent-range: bytes ${r.start}-${r.end}/${size}\r\n\r\n`,
    );
    body.push(sep, part(r.start, r.end - r.start + 1));
    total += sep.length + r.end - r.start + 1;
  }
  const end = ENC.encode(`\r\n--${boundary}--\r\n`);
  body.push(end);
  total += end.length;
  const h = head(206, [
    ["content-type", `multipart/byteranges; boundary=${boundary}`],
    ["content-length", String(total)],
    ...common,
  ]);
  if (isHead) {
    file?.close();
    return { status: 206, segs: [h], file: null };
  }
  return { status: 206, segs: [h, ...body], file };
}

/** The whole response of the static backend `spec` to `req`. */
export async function staticAnswer(spec: StaticSpec, req: StaticRequest): Promise<StaticAnswer> {
  const isHead = req.method === "HEAD";
  if (req.method !== "GET" && !isHead) return page(405, false, [["allow", "GET, HEAD"]]);
  const path = staticPath(req.target);
  if (path === null) return page(400, isHead);
  const l = await staticLookup(spec, path, (e) => acceptsEncoding(req.acceptEncoding, e));
  switch (l.kind) {
    case "status":
      return page(l.status, isHead);
    case "redirect": {
      const q = req.target.indexOf("?");
      const location = l.location + (q >= 0 ? req.target.slice(q) : "");
      return page(301, isHead, [["location", location]]);
    }
    case "listing":
      return listing(l, isHead);
    case "file":
      return fileAnswer(spec, req, l, isHead);
  }
}
