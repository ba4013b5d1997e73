/**
 * What a static-file backend serves and how (`static-*` keywords, the
 * configuration's `static` field once resolved).
 *
 * @module
 */

/** Precompressed variants a static backend may serve: `FILE.gz`, `FILE.br`. */
export type StaticEncoding = "gzip" | "br";

/** The file name suffix of each precompressed variant. */
export const STATIC_SUFFIX: Readonly<Record<StaticEncoding, string>> = { gzip: ".gz", br: ".br" };

/** Default validity of a static cache entry (`static-cache-valid`), ms. */
export const STATIC_CACHE_VALID_MS = 1000;
/** The longest validity accepted: an hour (nginx's default is a minute). */
export const STATIC_CACHE_VALID_MAX_MS = 3_600_000;

/** A static backend's settings, resolved. */
export interface StaticSpec {
  /** The root directory: absolute, symbolic links resolved. */
  readonly root: string;
  /** File served for a directory (`static-index`). */
  readonly index: string;
  /** List a directory without an index file (`static-autoindex on`). */
  readonly autoindex: boolean;
  /** Variants to look for, in order of preference (`static-precompressed`). */
  readonly precompressed: readonly StaticEncoding[];
  /** Cache-Control of every file response, or null (`static-cache-control`). */
  readonly cacheControl: string | null;
  /** Serve names starting with a dot (`static-dotfiles allow`). */
  readonly dotfiles: boolean;
  /** How long a path's real path, stat and small content are trusted, ms; 0: not cached (`static-cache-valid`). */
  readonly cacheValid: number;
}
