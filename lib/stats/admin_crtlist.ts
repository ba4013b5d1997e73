/**
 * The runtime API's `show ssl crt-list [-n] [<filename>]` in HAProxy 2.6's
 * format: without a name, the crt-list files and `crt` directories in use,
 * one a line in name order; with one, `# NAME` then a line per certificate
 * as a crt-list file holds it (`CRTFILE [SNI filters...]`), `-n` adding
 * `:LINE` after the file (0 for a directory's files). sluice refuses
 * per-line options (`[...]`) in crt-lists, so none is ever printed.
 *
 * @module
 */
import type { CrtLists } from "./admin_types.ts";

/** Answers `show ssl crt-list` with `args` (the words after it) from `lists`. */
export function showCrtList(lists: CrtLists, args: readonly string[]): string {
  const numbered = args[0] === "-n";
  const name = numbered ? args[1] : args[0];
  if (numbered && name === undefined) {
    return "'show ssl crt-list -n' expects a filename or a directory\n";
  }
  if (name === undefined) return [...lists.keys()].sort().map((f) => `${f}\n`).join("");
  // Trailing slashes are not part of a name (a directory's, as HAProxy keys it).
  const key = name.replace(/(.)\/+$/, "$1");
  const entries = lists.get(key);
  if (entries === undefined) return "didn't find the specified filename\n";
  let out = `# ${key}\n`;
  for (const e of entries) {
    out += `${e.crt}${numbered ? `:${e.line}` : ""}`;
    for (const f of e.filters) out += ` ${f}`;
    out += "\n";
  }
  return out;
}
