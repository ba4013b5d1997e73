/**
 * The crt-list files and `crt` directories of a resolved configuration's
 * listeners, gathered from their certificates' `crtList` for the runtime
 * API's `show ssl crt-list`. A list several binds use (or one bind with
 * several addresses) is listed once, as HAProxy loads it once.
 *
 * @module
 */
import type { CrtListEntry, CrtLists } from "../stats/admin_types.ts";
import type { ResolvedFrontend } from "./config_resolved_types.ts";

/** The lists of `frontends`' binds by name, entries in the order of the list. */
export function crtListsOf(frontends: readonly ResolvedFrontend[]): CrtLists {
  const lists = new Map<string, CrtListEntry[]>();
  const seen = new Set<string>();
  for (const fe of frontends) {
    for (const b of fe.binds) {
      const t = b.tls;
      if (t === null) continue;
      for (const c of [t, ...(t.sniCerts ?? [])]) {
        const ref = c.crtList;
        if (ref === undefined || c.file === undefined) continue;
        // Line and file tell a list's entries apart (a directory's are all line 0).
        const id = `${ref.file}\0${ref.line}\0${c.file}`;
        if (seen.has(id)) continue;
        seen.add(id);
        let list = lists.get(ref.file);
        if (list === undefined) lists.set(ref.file, list = []);
        list.push({ crt: c.file, line: ref.line, filters: c.filters ?? [] });
      }
    }
  }
  return lists;
}
