/**
 * What static backends know about the files they serve, as nginx's
 * `open_file_cache`: a path's real path (symbolic links resolved), its
 * stat (type, size, modification time, identity) and, for a small regular
 * file, its bytes. Resolving and stating a file costs more than the rest of
 * an HTTP exchange with Deno's synchronous calls (measured: realpath 8.6 µs,
 * stat 6.5 µs, open+fstat+read+close 32 µs against ~45 µs for the whole
 * HTTP path), so a file served again within the validity window costs no
 * system call at all.
 *
 * Validity: an entry is trusted for `validMs` after it was checked, then
 * checked again (realpath and stat). If the real path, the type, the size,
 * the modification or change time, the device or the inode differ, the
 * entry is replaced and its bytes dropped; if the path no longer resolves,
 * the entry goes. So a changed, deleted or replaced file, or a symbolic link
 * swapped to point elsewhere (outside the root included), is noticed at the
 * latest `validMs` after the change; within that window the old answer
 * (bytes, or the old real path) may still be served, exactly as nginx's
 * cached descriptors are. What fails to resolve is not kept (nginx's
 * `open_file_cache_errors off`): a file that appears is served at once, and
 * requests for names that do not exist cannot fill the cache.
 *
 * A file changed less than `settleMs` (50) ago by the wall clock keeps no
 * bytes (it is read for each response until checked again): file times
 * have a coarse granularity (a kernel tick), so a second write of the same
 * size within the same tick would otherwise go unnoticed, as "racy" entries
 * in git's index.
 *
 * Bounds: at most `entries` paths and `bytes` bytes of content per worker
 * thread (module state), files of at most `fileBytes` kept; the least
 * recently used go first. A larger file keeps only its metadata; its bytes
 * are read from an open descriptor for each response.
 *
 * @module
 */
import type { FileMeta } from "./static_cond.ts";

/** What a path resolved to when last checked. */
export interface StaticEntry {
  /** The real path: symbolic links resolved, absolute. */
  readonly real: string;
  readonly isFile: boolean;
  readonly isDirectory: boolean;
  /** Size and modification time: what the validators are made of. */
  readonly meta: FileMeta;
  /** Device, inode and change time: a different file, or one rewritten, has another. */
  readonly ident: string;
  /** The change time (wall clock ms). */
  readonly ctime: number;
  /** Device and inode: which file it is. */
  readonly dev: number;
  readonly ino: number | null;
  /** When the file system was last asked (monotonic ms). */
  checked: number;
  /** The whole content once read (small regular files only). */
  bytes: Uint8Array | null;
  /** Reading the content was tried and declined (too large, no room, changed meanwhile). */
  noBytes: boolean;
}

/** The bounds of a cache. */
export interface StaticCacheLimits {
  /** Most paths remembered. */
  readonly entries: number;
  /** Most content bytes held. */
  readonly bytes: number;
  /** Largest file whose content is held. */
  readonly fileBytes: number;
}

/** The bounds of each worker's cache: 10,000 paths, 8 MiB of content, files up to 64 KiB. */
export const STATIC_CACHE_LIMITS: StaticCacheLimits = {
  entries: 10_000,
  bytes: 8 * 1024 * 1024,
  fileBytes: 64 * 1024,
};

/** A path's stat as an entry, or null when it does not resolve. */
function fresh(path: string, now: number): StaticEntry | null {
  let real: string, st: Deno.FileInfo;
  try {
    real = Deno.realPathSync(path);
    st = Deno.statSync(real);
  } catch {
    return null;
  }
  return {
    real,
    isFile: st.isFile,
    isDirectory: st.isDirectory,
    meta: { size: st.size, mtime: st.mtime?.getTime() ?? 0 },
    ident: identOf(st),
    ctime: st.ctime?.getTime() ?? 0,
    dev: st.dev,
    ino: st.ino,
    checked: now,
    bytes: null,
    noBytes: false,
  };
}

/** Device, inode and change time of a stat. */
function identOf(st: Deno.FileInfo): string {
  return `${st.dev}:${st.ino}:${st.ctime?.getTime() ?? 0}`;
}

/** The same file, unchanged: the entry's bytes still hold. */
function same(a: StaticEntry, b: StaticEntry): boolean {
  return a.real === b.real && a.isFile === b.isFile && a.isDirectory === b.isDirectory &&
    a.meta.size === b.meta.size && a.meta.mtime === b.meta.mtime && a.ident === b.ident;
}

/** Paths to what they resolved to, least recently used first. */
export class StaticFileCache {
  readonly limits: StaticCacheLimits;
  /** A file changed less than this ago (wall clock ms) keeps no bytes. */
  readonly settleMs: number;
  #map = new Map<string, StaticEntry>();
  #bytes = 0;

  constructor(limits: StaticCacheLimits = STATIC_CACHE_LIMITS, settleMs = 50) {
    if (limits.fileBytes > limits.bytes) throw new RangeError("fileBytes > bytes");
    this.limits = limits;
    this.settleMs = settleMs;
  }

  /** Paths remembered. */
  get entries(): number {
    return this.#map.size;
  }

  /** Content bytes held. */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * What `path` resolves to, checked at most `validMs` ago (0: asked now and
   * not kept), or null when it does not resolve (any error).
   */
  probe(path: string, validMs: number, now: number): StaticEntry | null {
    if (validMs <= 0) return fresh(path, now);
    const old = this.#map.get(path);
    if (old !== undefined) {
      this.#map.delete(path);
      if (now - old.checked < validMs && now >= old.checked) {
        this.#map.set(path, old);
        return old;
      }
      this.#bytes -= old.bytes?.length ?? 0;
    }
    const e = fresh(path, now);
    if (e === null) return null;
    if (old !== undefined && same(old, e)) {
      old.checked = now;
      old.noBytes = false; // room, or a settled file, may be there now
      this.#bytes += old.bytes?.length ?? 0;
      this.#map.set(path, old);
      return old;
    }
    this.#map.set(path, e);
    this.#evict();
    return e;
  }

  /**
   * The whole content of regular file `e` (an entry this cache returned for
   * `path`), read once and kept while it fits; null when it is not kept (the
   * caller opens `e.real` and reads it itself).
   */
  content(path: string, e: StaticEntry): Uint8Array | null {
    if (e.bytes !== null || e.noBytes) return e.bytes;
    if (
      !e.isFile || e.meta.size > this.limits.fileBytes || this.#map.get(path) !== e ||
      !(Date.now() - e.ctime >= this.settleMs)
    ) {
      e.noBytes = true;
      return null;
    }
    const bytes = readWhole(e);
    if (bytes === null) {
      e.noBytes = true;
      return null;
    }
    e.bytes = bytes;
    this.#bytes += bytes.length;
    this.#evict();
    return e.bytes;
  }

  /** Forgets `path` (found to be another file than its entry says). */
  forget(path: string): void {
    const e = this.#map.get(path);
    if (e === undefined) return;
    this.#map.delete(path);
    this.#bytes -= e.bytes?.length ?? 0;
  }

  /** Forgets the least recently used until within bounds. */
  #evict(): void {
    for (const [k, e] of this.#map) {
      if (this.#map.size <= this.limits.entries && this.#bytes <= this.limits.bytes) return;
      this.#map.delete(k);
      this.#bytes -= e.bytes?.length ?? 0;
    }
  }
}

/** `e.real` opened, with the open file's stat; null when either fails. */
export function openEntry(e: StaticEntry): { file: Deno.FsFile; st: Deno.FileInfo } | null {
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(e.real, { read: true });
  } catch {
    return null;
  }
  try {
    return { file, st: file.statSync() };
  } catch {
    file.close();
    return null;
  }
}

/**
 * The content of `e.real`, or null when the file opened is not the one
 * stated (replaced or changed since) or reads short.
 */
function readWhole(e: StaticEntry): Uint8Array | null {
  const o = openEntry(e);
  if (o === null) return null;
  const { file, st } = o;
  try {
    if (
      !st.isFile || st.size !== e.meta.size || (st.mtime?.getTime() ?? 0) !== e.meta.mtime ||
      identOf(st) !== e.ident
    ) return null;
    const out = new Uint8Array(st.size);
    let off = 0;
    while (off < out.length) {
      const n = file.readSync(out.subarray(off));
      if (n === null || n === 0) return null;
      off += n;
    }
    return out;
  } catch {
    return null;
  } finally {
    file.close();
  }
}

/** Each worker's cache, shared by its static backends (keys are file system paths). */
export const staticCache: StaticFileCache = new StaticFileCache();
