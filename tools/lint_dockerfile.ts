/**
 * A structural lint of a Dockerfile, offline: no Docker engine and no
 * hadolint are needed (neither is available to CI). It checks what would
 * make a build fail or an image unsafe, in the spirit of hadolint's rules:
 *
 * - only known instructions; before the first `FROM` only `ARG`;
 * - every `FROM` names a tag or digest, not `latest` (DL3006, DL3007), and
 *   stage names are unique;
 * - `COPY --from=NAME` names an earlier stage (DL3022); other `COPY`
 *   sources exist in the build context and are not excluded by
 *   `.dockerignore`; no `ADD` (DL3020: use COPY);
 * - a stage with an `ENTRYPOINT` or `CMD` runs as a `USER` other than root
 *   (DL3002), and both are in exec (JSON) form (DL3025);
 * - `WORKDIR` is absolute (DL3000), `EXPOSE` ports are numbers, no `cd` in
 *   `RUN` (DL3003), `apt-get install` has `-y` and
 *   `--no-install-recommends` (DL3014, DL3015), no `sudo` (DL3004);
 * - an `ENTRYPOINT` script that comes from the build context is executable.
 *
 * `deno run --allow-read tools/lint_dockerfile.ts [Dockerfile]` prints one
 * line per problem (`Dockerfile:LINE: message`) and exits 1 when there is
 * any.
 *
 * @module
 */

/** One instruction: its keyword, its arguments (continuations joined) and its first line. */
interface Instruction {
  line: number;
  kw: string;
  args: string;
}

/** What the lint needs to know about the build context. */
export interface LintContext {
  /** True when `path` (relative to the context) exists. */
  exists(path: string): boolean;
  /** True when `path` is an executable file. */
  executable(path: string): boolean;
  /** `.dockerignore` patterns (`dir`, `dir/*.png`), or none. */
  ignored?: string[];
}

const KNOWN = new Set([
  "FROM",
  "ARG",
  "ENV",
  "RUN",
  "COPY",
  "ADD",
  "WORKDIR",
  "USER",
  "EXPOSE",
  "ENTRYPOINT",
  "CMD",
  "LABEL",
  "STOPSIGNAL",
  "HEALTHCHECK",
  "SHELL",
  "VOLUME",
  "ONBUILD",
]);

/** The Dockerfile's instructions, with `\` continuations joined and comments dropped. */
function instructions(text: string): Instruction[] {
  const out: Instruction[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const first = i + 1;
    let l = lines[i].trim();
    if (l === "" || l.startsWith("#")) continue;
    while (l.endsWith("\\") && i + 1 < lines.length) {
      l = l.slice(0, -1) + " ";
      const next = lines[++i].trim();
      if (!next.startsWith("#")) l += next;
    }
    const m = /^(\S+)\s*(.*)$/s.exec(l)!;
    out.push({ line: first, kw: m[1].toUpperCase(), args: m[2].trim() });
  }
  return out;
}

/** True when `.dockerignore` pattern `pat` excludes `path` (`*` within one segment). */
function ignoredBy(pat: string, path: string): boolean {
  const p = pat.replace(/^\.?\//, "").replace(/\/$/, "");
  const re = new RegExp(
    "^" + p.split("*").map((s) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join("[^/]*") +
      "(/.*)?$",
  );
  return re.test(path.replace(/^\.?\//, ""));
}

/** `--flag=value` options and the remaining words of a COPY/ADD. */
function copyArgs(args: string): { flags: Map<string, string>; words: string[] } {
  const flags = new Map<string, string>();
  const words: string[] = [];
  for (const w of args.split(/\s+/)) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(w);
    if (m !== null && words.length === 0) flags.set(m[1], m[2] ?? "");
    else words.push(w);
  }
  return { flags, words };
}

/** The words of an exec-form array, or null when `args` is not one. */
function execForm(args: string): string[] | null {
  try {
    const v = JSON.parse(args);
    return Array.isArray(v) && v.every((x) => typeof x === "string") ? v : null;
  } catch {
    return null;
  }
}

/**
 * Lints Dockerfile `text` (named `name` in messages) against its build
 * context; returns the problems, none when it is clean.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { lintDockerfile } from "./lint_dockerfile.ts";
 * const ctx = { exists: () => true, executable: () => true };
 * assert.deepEqual(lintDockerfile("FROM debian:bookworm-slim\nUSER app\nCMD [\"true\"]\n", ctx), []);
 * assert.match(lintDockerfile("FROM debian\nCMD true\n", ctx).join("\n"), /tag/);
 * ```
 */
export function lintDockerfile(text: string, ctx: LintContext, name = "Dockerfile"): string[] {
  const problems: string[] = [];
  const bad = (ins: Instruction, msg: string) => problems.push(`${name}:${ins.line}: ${msg}`);
  const stages: string[] = [];
  const argDefaults = new Map<string, string>();
  let inStage = false;
  let user = "root";
  let runsSomething: Instruction | null = null;
  const endStage = () => {
    if (inStage && runsSomething !== null && /^(root|0)(:.*)?$/.test(user)) {
      bad(runsSomething, "the stage runs as root: add a USER with an unprivileged user first");
    }
  };
  for (const ins of instructions(text)) {
    if (!KNOWN.has(ins.kw)) {
      bad(ins, `unknown instruction "${ins.kw}"`);
      continue;
    }
    if (!inStage && ins.kw !== "FROM" && ins.kw !== "ARG") {
      bad(ins, `"${ins.kw}" before the first FROM (only ARG may come first)`);
    }
    switch (ins.kw) {
      case "ARG": {
        const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:=(\S*))?$/.exec(ins.args);
        if (m === null) bad(ins, `malformed ARG "${ins.args}"`);
        else if (m[2] !== undefined) argDefaults.set(m[1], m[2]);
        break;
      }
      case "FROM": {
        endStage();
        inStage = true;
        user = "root";
        runsSomething = null;
        const m = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
        if (m === null) {
          bad(ins, `malformed FROM "${ins.args}"`);
          break;
        }
        const image = m[1].replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (_, v) => {
          const d = argDefaults.get(v);
          if (d === undefined) bad(ins, `ARG ${v} used in FROM has no default`);
          return d ?? "";
        });
        if (!stages.includes(image)) {
          if (!/@sha256:|:[^/]+$/.test(image)) bad(ins, `image "${image}" has no tag`);
          else if (/:latest$/.test(image)) bad(ins, `image "${image}" uses the latest tag`);
        }
        if (m[2] !== undefined) {
          if (stages.includes(m[2])) bad(ins, `stage name "${m[2]}" used twice`);
          stages.push(m[2]);
        }
        break;
      }
      case "ADD":
        bad(ins, "use COPY instead of ADD");
        break;
      case "COPY": {
        const { flags, words } = copyArgs(ins.args);
        if (words.length < 2) {
          bad(ins, "COPY needs a source and a destination");
          break;
        }
        const from = flags.get("from");
        if (from !== undefined) {
          if (!stages.includes(from)) bad(ins, `COPY --from="${from}" names no earlier stage`);
          break;
        }
        for (const src of words.slice(0, -1)) {
          if (src === ".") continue;
          if (!ctx.exists(src)) bad(ins, `COPY source "${src}" is not in the build context`);
          else if ((ctx.ignored ?? []).some((p) => ignoredBy(p, src))) {
            bad(ins, `COPY source "${src}" is excluded by .dockerignore`);
          }
        }
        break;
      }
      case "USER":
        user = ins.args;
        break;
      case "WORKDIR":
        if (!ins.args.startsWith("/")) bad(ins, `WORKDIR "${ins.args}" is not absolute`);
        break;
      case "EXPOSE":
        for (const p of ins.args.split(/\s+/)) {
          if (!/^\d{1,5}(\/(tcp|udp))?$/.test(p)) bad(ins, `EXPOSE "${p}" is not a port`);
        }
        break;
      case "RUN":
        if (/(^|&&|;|\|\|)\s*cd\s/.test(ins.args)) bad(ins, "use WORKDIR instead of cd in RUN");
        if (/\bsudo\b/.test(ins.args)) bad(ins, "do not use sudo in RUN");
        for (const m of ins.args.matchAll(/apt-get\s+install\b[^&;|]*/g)) {
          if (!/\s-(y|[a-z]*y[a-z]*)\b|--yes|--assume-yes/.test(m[0])) {
            bad(ins, "apt-get install without -y");
          }
          if (!/--no-install-recommends/.test(m[0])) {
            bad(ins, "apt-get install without --no-install-recommends");
          }
        }
        break;
      case "ENTRYPOINT":
      case "CMD": {
        const words = execForm(ins.args);
        if (words === null) {
          bad(ins, `${ins.kw} is not in exec form (a JSON array of strings)`);
          break;
        }
        runsSomething ??= ins;
        if (ins.kw === "ENTRYPOINT" && words.length > 0 && words[0].startsWith("/")) {
          // A script from the build context (the longest tail of its image
          // path that is a context file) must be executable there.
          const parts = words[0].split("/").filter((x) => x !== "");
          for (let i = 0; i < parts.length; i++) {
            const rel = parts.slice(i).join("/");
            if (!rel.includes("/") || !ctx.exists(rel)) continue;
            if (!ctx.executable(rel)) {
              bad(ins, `ENTRYPOINT "${words[0]}" (${rel}) is not executable`);
            }
            break;
          }
        }
        break;
      }
    }
  }
  endStage();
  if (stages.length === 0 && !inStage) problems.push(`${name}: no FROM`);
  return problems;
}

/** The build context of the Dockerfile at `file` (its directory). */
function fsContext(dir: string): LintContext {
  const at = (p: string) => `${dir}/${p.replace(/^\.?\//, "")}`;
  let ignored: string[] = [];
  try {
    ignored = Deno.readTextFileSync(at(".dockerignore")).split("\n").map((l) => l.trim())
      .filter((l) => l !== "" && !l.startsWith("#"));
  } catch {
    // No .dockerignore.
  }
  return {
    exists(p) {
      try {
        Deno.statSync(at(p));
        return true;
      } catch {
        return false;
      }
    },
    executable(p) {
      try {
        return ((Deno.statSync(at(p)).mode ?? 0o755) & 0o111) !== 0;
      } catch {
        return false;
      }
    },
    ignored,
  };
}

if (import.meta.main) {
  const file = Deno.args[0] ?? "Dockerfile";
  const dir = file.includes("/") ? file.slice(0, file.lastIndexOf("/")) : ".";
  const problems = lintDockerfile(Deno.readTextFileSync(file), fsContext(dir), file);
  for (const p of problems) console.error(p);
  if (problems.length > 0) Deno.exit(1);
  console.log(`${file}: no problem found`);
}
