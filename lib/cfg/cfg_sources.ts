/**
 * Where each part of a configuration read from files was written: the
 * `file:line` of each field (`frontends[0].defaultBackend` → `a.cfg:12`),
 * the section each statement belongs to, and the files in reading order.
 *
 * Loading uses it to give an error found after parsing (when the
 * configuration object is resolved, errors name a field) the line that
 * caused it, to leave out the later errors of a section that already has
 * one (they would mostly repeat it), and to sort the report in file and line
 * order.
 *
 * @module
 */

/** A trailing `.field` or `[index]` of a field path. */
const LAST_STEP = /(\.[^.[\]]+|\[[^\]]*\])$/;

/** `file:line` split; a place without a line (a file name) has line 0. */
function cfgPlace(where: string): { file: string; line: number } {
  const m = /^(.*):([0-9]+)$/.exec(where);
  return m === null ? { file: where, line: 0 } : { file: m[1], line: Number(m[2]) };
}

/** Field paths, statements and sections of configuration files. */
export class CfgSources {
  /** The files, in reading order. */
  readonly files: string[] = [];
  #fields = new Map<string, string>();
  #sections = new Map<string, string>();
  #broken = new Set<string>();

  /** Records that the field at `path` (`backends[1].servers[0]`) was written at `where`. */
  field(path: string, where: string): void {
    if (where !== "") this.#fields.set(path, where);
  }

  /** Records that the statement at `where` is in the section whose header is at `header`. */
  statement(where: string, header: string): void {
    this.#sections.set(where, header);
  }

  /** True when `where` is the `file:line` of a statement (not a field path). */
  isStatement(where: string): boolean {
    return this.#sections.has(where);
  }

  /**
   * The `file:line` of the field at `path`, or else of the nearest field
   * enclosing it (`exact` false); null when no part of the path was written
   * in a file.
   */
  whereOf(path: string): { where: string; exact: boolean } | null {
    let p = path;
    for (let exact = true;; exact = false) {
      const where = this.#fields.get(p);
      if (where !== undefined) return { where, exact };
      const next = p.replace(LAST_STEP, "");
      if (next === p || next === "") return null;
      p = next;
    }
  }

  /** Marks the section of the statement at `where` as having an error. */
  breakAt(where: string): void {
    this.#broken.add(this.#sections.get(where) ?? where);
  }

  /** True when the section of the statement at `where` has an error. */
  isBroken(where: string): boolean {
    return this.#broken.has(this.#sections.get(where) ?? where);
  }

  /** True when `where` is the header line of a section that has an error. */
  isBrokenHeader(where: string): boolean {
    return this.#sections.get(where) === where && this.#broken.has(where);
  }

  /**
   * Orders two places (`file:line`, or a file name alone): by file, in
   * reading order, then by line; a place in no known file comes last.
   */
  compare(a: string, b: string): number {
    const pa = cfgPlace(a), pb = cfgPlace(b);
    const rank = (file: string) => {
      const i = this.files.indexOf(file);
      return i < 0 ? Infinity : i;
    };
    const fa = rank(pa.file), fb = rank(pb.file);
    if (fa !== fb) return fa < fb ? -1 : 1;
    return pa.line - pb.line;
  }
}
