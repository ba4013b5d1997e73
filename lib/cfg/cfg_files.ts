/**
 * The configuration files named on the command line (`-f`), as HAProxy reads
 * them: a file as is, a directory as every `*.cfg` file in it (hidden ones
 * aside) in name order. Directories are listed each time the files are read,
 * so that a reload sees a file added since.
 *
 * @module
 */
import { join } from "node:path";
import { errMsg, SluiceError } from "../core/errors.ts";

/** One configuration file's text. */
export interface CfgInput {
  /** The file name, as messages show it. */
  readonly file: string;
  readonly text: string;
}

/** The `*.cfg` files of a directory, in name order. */
function cfgDirFiles(dir: string): string[] {
  const names: string[] = [];
  for (const e of Deno.readDirSync(dir)) {
    if (!e.name.endsWith(".cfg") || e.name.startsWith(".")) continue;
    if (e.isFile || (e.isSymlink && Deno.statSync(join(dir, e.name)).isFile)) names.push(e.name);
  }
  return names.sort((a, b) => a < b ? -1 : a > b ? 1 : 0).map((n) => join(dir, n));
}

/** A configuration error at `path` (a file or directory name, no line). */
function cfgPathError(path: string, what: string, err: unknown): SluiceError {
  return new SluiceError("ERR_CONFIG", `${path}: cannot read the ${what}: ${errMsg(err)}`, path);
}

/**
 * Reads `paths` in order, a directory standing for its `*.cfg` files (an
 * empty directory adds none, as in HAProxy). A path that cannot be read is
 * an ERR_CONFIG error at its name, added to `errors`, and reads as empty
 * text (keeping its place in the order of the report); the others are read
 * all the same.
 */
export function cfgReadFiles(paths: readonly string[], errors: SluiceError[]): CfgInput[] {
  if (paths.length === 0) throw new SluiceError("ERR_CONFIG", "No configuration file given");
  const files: string[] = [];
  for (const path of paths) {
    let dir = false;
    try {
      dir = Deno.statSync(path).isDirectory;
    } catch {
      // Not there: reading it says so.
    }
    if (!dir) files.push(path);
    else {
      try {
        files.push(...cfgDirFiles(path));
      } catch (err) {
        errors.push(cfgPathError(path, "configuration directory", err));
        files.push(path);
      }
    }
  }
  if (files.length === 0 && errors.length === 0) {
    throw new SluiceError(
      "ERR_CONFIG",
      `No configuration file: no *.cfg file in ${paths.join(", ")}`,
    );
  }
  const unread = new Set(errors.map((e) => e.where));
  return files.map((file) => {
    if (unread.has(file)) return { file, text: "" };
    try {
      return { file, text: Deno.readTextFileSync(file) };
    } catch (err) {
      errors.push(cfgPathError(file, "configuration file", err));
      return { file, text: "" };
    }
  });
}
