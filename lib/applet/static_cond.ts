/**
 * Validators and conditional requests of static files (RFC 9110 §8.8,
 * §13): a strong ETag from size and modification time, Last-Modified in
 * whole seconds, and the evaluation order of §13.2.2 (If-Match, else
 * If-Unmodified-Since: 412; If-None-Match, else If-Modified-Since: 304 for
 * GET and HEAD; If-Range decides whether a Range applies).
 *
 * @module
 */

/** What a file's validators are made of. */
export interface FileMeta {
  readonly size: number;
  /** Modification time in ms since the epoch. */
  readonly mtime: number;
}

/** The conditional headers of a request (absent: undefined). */
export interface CondHeaders {
  ifMatch?: string;
  ifNoneMatch?: string;
  ifModifiedSince?: string;
  ifUnmodifiedSince?: string;
  ifRange?: string;
}

/** The strong ETag of a file: modification time and size in hex, as nginx's. */
export function etagOf(m: FileMeta): string {
  return `"${Math.floor(m.mtime / 1000).toString(16)}-${m.size.toString(16)}"`;
}

/** An HTTP date (IMF-fixdate) for `ms`. */
export function httpDate(ms: number): string {
  return new Date(ms).toUTCString();
}

/** Seconds since the epoch of an HTTP date, or NaN when it is not one. */
function parseDate(s: string): number {
  // IMF-fixdate and the two obsolete forms all parse with Date; refuse
  // anything without a weekday-style shape to avoid Date's leniency.
  if (!/^[A-Za-z]{3},? /.test(s.trim())) return NaN;
  const t = Date.parse(s);
  return Number.isNaN(t) ? NaN : Math.floor(t / 1000);
}

/** The entity tags of a list header (`"a", W/"b"`), or "*". */
function tagList(h: string): string[] | "*" {
  if (h.trim() === "*") return "*";
  return h.match(/(?:W\/)?"[^"]*"/g) ?? [];
}

/** Strong comparison: both strong and equal. */
function strongMatch(tags: string[] | "*", etag: string): boolean {
  return tags === "*" || tags.includes(etag);
}

/** Weak comparison: equal once a `W/` prefix is dropped. */
function weakMatch(tags: string[] | "*", etag: string): boolean {
  return tags === "*" || tags.some((t) => (t.startsWith("W/") ? t.slice(2) : t) === etag);
}

/**
 * The outcome of the preconditions for a GET or HEAD of a file with `meta`:
 * 412, 304, or 0 to go on (send the file).
 */
export function evalConditions(c: CondHeaders, meta: FileMeta): 0 | 304 | 412 {
  const etag = etagOf(meta);
  const mtime = Math.floor(meta.mtime / 1000);
  if (c.ifMatch !== undefined) {
    if (!strongMatch(tagList(c.ifMatch), etag)) return 412;
  } else if (c.ifUnmodifiedSince !== undefined) {
    const d = parseDate(c.ifUnmodifiedSince);
    if (!Number.isNaN(d) && mtime > d) return 412;
  }
  if (c.ifNoneMatch !== undefined) {
    if (weakMatch(tagList(c.ifNoneMatch), etag)) return 304;
  } else if (c.ifModifiedSince !== undefined) {
    const d = parseDate(c.ifModifiedSince);
    if (!Number.isNaN(d) && mtime <= d) return 304;
  }
  return 0;
}

/**
 * Whether a Range applies given `If-Range` (RFC 9110 §13.1.5): absent, the
 * same strong ETag, or exactly the Last-Modified date.
 */
export function ifRangeHolds(c: CondHeaders, meta: FileMeta): boolean {
  const v = c.ifRange?.trim();
  if (v === undefined) return true;
  if (v.startsWith('"') || v.startsWith("W/")) return v === etagOf(meta);
  const d = parseDate(v);
  return !Number.isNaN(d) && d === Math.floor(meta.mtime / 1000);
}
