/**
 * Finds what a normalised request path names under a static root, without
 * ever leaving it: every candidate is resolved with `realPath` and must be
 * the root or under it (a symbolic link pointing outside is "not found"),
 * names starting with a dot are refused unless allowed (also after
 * resolving links), only regular files are opened, a directory needs its
 * trailing slash (else a redirect), then its index file, else a listing
 * when allowed, else 403.
 *
 * Real paths and stats come from the worker's cache (static_cache.ts),
 * checked again at most `cacheValid` ms after the last time: the root,
 * symbolic link and dotfile checks run on every request against the cached
 * real path, so a link swapped to point outside the root stops being served
 * within that window. A small file's bytes come from the cache too; a
 * larger one is opened (its real path) for each response.
 *
 * The lookups are synchronous system calls (realpath, stat, open, fstat),
 * as nginx makes them: Deno's asynchronous ones hop through a thread pool
 * and cost about seven times as much (measured: 420 µs against 55 µs per
 * file on a loaded 2-core machine). A local file system is assumed; reading
 * a large file's bytes is asynchronous (static_sock.ts), and so is a
 * listing. Opening follows a stat that said "regular file", so a FIFO is
 * never opened (which would block) unless it replaces the file in between:
 * the root must not be writable by whoever sends requests.
 *
 * @module
 */
import type { StaticPath } from "./static_path.ts";
import { staticUrlPath } from "./static_path.ts";
import { STATIC_SUFFIX, type StaticEncoding, type StaticSpec } from "./static_types.ts";
import type { FileMeta } from "./static_cond.ts";
import { openEntry, staticCache, type StaticEntry } from "./static_cache.ts";

/** What a path names. */
export type Lookup =
  | {
    kind: "file";
    /** The open file, or null when `bytes` hold the whole content. */
    file: Deno.FsFile | null;
    /** The whole content (a small file, from the cache), or null: read `file`. */
    bytes: Uint8Array | null;
    meta: FileMeta;
    /** The name the content type comes from (as requested: not a link's target, not the variant). */
    name: string;
    encoding: StaticEncoding | null;
  }
  | { kind: "redirect"; location: string }
  | { kind: "listing"; segments: readonly string[]; entries: ListEntry[] }
  | { kind: "status"; status: 403 | 404 | 500 };

/** One directory entry of a listing. */
export interface ListEntry {
  readonly name: string;
  readonly dir: boolean;
  readonly size: number;
  readonly mtime: number;
}

/** The most entries a listing shows. */
export const MAX_LISTING = 10_000;

const NOT_FOUND = { kind: "status", status: 404 } as const;
const FORBIDDEN = { kind: "status", status: 403 } as const;

/**
 * What `p` resolves to (cached) if its real path is inside the root (and
 * allowed), else null.
 */
function inside(spec: StaticSpec, p: string, now: number): StaticEntry | null {
  const e = staticCache.probe(p, spec.cacheValid, now);
  if (e === null) return null;
  const real = e.real;
  if (real === spec.root) return e;
  if (!real.startsWith(spec.root.endsWith("/") ? spec.root : spec.root + "/")) return null;
  if (!spec.dotfiles && real.slice(spec.root.length).split("/").some((s) => s.startsWith("."))) {
    return null;
  }
  return e;
}

/**
 * Thrown when the file opened is not the one the cache resolved (replaced
 * since, possibly by a link to elsewhere): the lookup is made again, fresh.
 */
class Stale extends Error {}

/**
 * Regular file `e` (resolved from `p`): its bytes from the cache when it
 * keeps them, else opened, its metadata from the open file itself. The file
 * opened must be the one resolved (device and inode): the cached real path
 * may lead elsewhere now, and what was checked inside the root is the entry.
 */
function openFile(
  p: string,
  e: StaticEntry,
): { file: Deno.FsFile | null; bytes: Uint8Array | null; meta: FileMeta } | null {
  const bytes = staticCache.content(p, e);
  if (bytes !== null) return { file: null, bytes, meta: e.meta };
  const o = openEntry(e);
  if (o === null) return null;
  const { file, st } = o;
  if (st.dev !== e.dev || st.ino !== e.ino) {
    file.close();
    staticCache.forget(p);
    throw new Stale();
  }
  if (st.isFile) {
    return { file, bytes: null, meta: { size: st.size, mtime: st.mtime?.getTime() ?? 0 } };
  }
  file.close();
  return null;
}

/**
 * The file `e` (resolved from `p`, already checked inside the root), or its
 * first precompressed variant the client accepts.
 */
function fileOrVariant(
  spec: StaticSpec,
  p: string,
  e: StaticEntry,
  name: string,
  accepts: (e: StaticEncoding) => boolean,
  now: number,
): Lookup {
  for (const enc of spec.precompressed) {
    if (!accepts(enc)) continue;
    const vp = e.real + STATIC_SUFFIX[enc];
    const v = inside(spec, vp, now);
    if (v === null || !v.isFile) continue;
    const f = openFile(vp, v);
    if (f !== null) return { kind: "file", ...f, name, encoding: enc };
  }
  const f = openFile(p, e);
  return f === null ? NOT_FOUND : { kind: "file", ...f, name, encoding: null };
}

/** The entries of directory `dir`, sorted (directories first), dotfiles out unless allowed. */
async function listDir(spec: StaticSpec, dir: string): Promise<ListEntry[]> {
  const out: ListEntry[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (!spec.dotfiles && e.name.startsWith(".")) continue;
    if (out.length >= MAX_LISTING) break;
    const st = await Deno.stat(`${dir}/${e.name}`).catch(() => null);
    out.push({
      name: e.name,
      dir: st?.isDirectory ?? e.isDirectory,
      size: st?.size ?? 0,
      mtime: st?.mtime?.getTime() ?? 0,
    });
  }
  out.sort((
    a,
    b,
  ) => (a.dir === b.dir ? (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) : a.dir ? -1 : 1));
  return out;
}

/**
 * What `path` names under the root of `spec`. A lookup that opened another
 * file than the cache said is made again with fresh entries; twice in a row
 * (the file is being replaced right now) is "not found".
 */
export async function staticLookup(
  spec: StaticSpec,
  path: StaticPath,
  accepts: (e: StaticEncoding) => boolean,
): Promise<Lookup> {
  if (!spec.dotfiles && path.segments.some((s) => s.startsWith("."))) return NOT_FOUND;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      return await lookupOnce(spec, path, accepts, performance.now());
    } catch (err) {
      if (!(err instanceof Stale)) throw err;
    }
  }
  return NOT_FOUND;
}

/** One lookup of `path` with the cache's entries at `now`. */
async function lookupOnce(
  spec: StaticSpec,
  path: StaticPath,
  accepts: (e: StaticEncoding) => boolean,
  now: number,
): Promise<Lookup> {
  const segs = path.segments;
  const p = segs.length === 0 ? spec.root : `${spec.root}/${segs.join("/")}`;
  const e = inside(spec, p, now);
  if (e === null) return NOT_FOUND;
  if (e.isFile) {
    // "/file/" names no directory: as nginx, not found.
    if (path.trailingSlash) return NOT_FOUND;
    return fileOrVariant(spec, p, e, segs[segs.length - 1], accepts, now);
  }
  if (!e.isDirectory) return NOT_FOUND;
  if (!path.trailingSlash) return { kind: "redirect", location: staticUrlPath(segs, true) };
  const ip = `${e.real}/${spec.index}`;
  const idx = inside(spec, ip, now);
  if (idx !== null && idx.isFile) return fileOrVariant(spec, ip, idx, spec.index, accepts, now);
  if (!spec.autoindex) return FORBIDDEN;
  try {
    return { kind: "listing", segments: segs, entries: await listDir(spec, e.real) };
  } catch {
    return FORBIDDEN;
  }
}
