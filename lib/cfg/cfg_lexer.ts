/**
 * Splits HAProxy configuration text into statements: one per line, each a
 * list of words, following HAProxy's parse_line() (src/tools.c):
 *
 * - `#` outside quotes starts a comment; words are split on spaces and tabs.
 * - Double quotes group words; inside them (and outside quotes) a backslash
 *   escapes: `\\`, `\ `, `\"`, `\'`, `\#`, `\$`, `\t`, `\n`, `\r`, `\xHH`.
 *   Any other backslash is kept as is (`\d` stays `\d`, for regexes).
 * - Single quotes are literal: no escapes, no variables.
 * - Environment variables: `"$NAME"`, `"${NAME}"` and `"${NAME-default}"`
 *   inside double quotes (as HAProxy), and `${NAME}` / `${NAME-default}`
 *   unquoted too (sluice also expands there; a lone unquoted `$` stays
 *   literal). The value never splits into several words. An undefined
 *   variable without a default is an error naming it (HAProxy would expand it
 *   to nothing, which hides typos).
 * - A line may not contain NUL, nor CR except right before its LF.
 *
 * @module
 */
import { SluiceError } from "../core/errors.ts";
import { cfgError } from "./cfg_at.ts";

/** One statement of a configuration file. */
export interface CfgLine {
  /** File name as given (used in messages and to resolve relative files). */
  file: string;
  /** Line number, from 1. */
  line: number;
  /** `file:line`, as errors name it. */
  where: string;
  /** The words, unquoted and unescaped; never empty. */
  words: string[];
}

/** Environment variables available to `${NAME}`. */
export type CfgEnv = Record<string, string | undefined>;

const NAME_START = /[A-Za-z_]/;
const NAME_CHAR = /[A-Za-z0-9_]/;

/** Escapes that stand for another character (besides `\xHH`). */
const ESCAPES: Record<string, string> = {
  " ": " ",
  "\\": "\\",
  '"': '"',
  "'": "'",
  "#": "#",
  "$": "$",
  t: "\t",
  n: "\n",
  r: "\r",
};

/**
 * Expands the variable whose `$` is at `text[i]` (`$NAME`, `${NAME}` or
 * `${NAME-default}`). Returns its value and the index after it.
 */
function lexVariable(
  text: string,
  i: number,
  ctx: { where: string; env: CfgEnv },
): { value: string; next: number } {
  let j = i + 1;
  const brace = text[j] === "{";
  if (brace) j++;
  const start = j;
  if (j >= text.length || !NAME_START.test(text[j])) {
    throw cfgError(
      ctx.where,
      `"${text.slice(i, j)}" must be followed by a variable name (write \\$ for a literal "$")`,
    );
  }
  while (j < text.length && NAME_CHAR.test(text[j])) j++;
  const name = text.slice(start, j);
  let dflt: string | undefined;
  if (brace) {
    if (text[j] === "[") {
      throw cfgError(ctx.where, `word expansion "\${${name}[...]}" is not supported`);
    }
    if (text[j] === "-") {
      const end = text.indexOf("}", j);
      if (end < 0) throw cfgError(ctx.where, `missing "}" after "\${${name}"`);
      dflt = text.slice(j + 1, end);
      j = end;
    }
    if (text[j] !== "}") throw cfgError(ctx.where, `missing "}" after "\${${name}"`);
    j++;
  }
  const value = ctx.env[name] ?? dflt;
  if (value === undefined) {
    throw cfgError(ctx.where, `undefined environment variable "${name}"`);
  }
  return { value, next: j };
}

/**
 * Splits one line (without its line ending) into words. Throws a SluiceError
 * (ERR_CONFIG) at `where` for an unterminated quote, a bad escape, a bad or
 * undefined variable, or a NUL byte.
 *
 * @example
 * ```ts
 * import { cfgLexLine } from "./cfg_lexer.ts";
 * cfgLexLine(`server s1 "\${HOST}:80" # web`, "a.cfg:3", { HOST: "10.0.0.1" });
 * // ["server", "s1", "10.0.0.1:80"]
 * ```
 */
export function cfgLexLine(text: string, where: string, env: CfgEnv): string[] {
  if (text.includes("\0")) throw cfgError(where, "the line contains a NUL byte");
  if (text.includes("\r")) throw cfgError(where, "the line contains a CR not followed by LF");
  const words: string[] = [];
  let cur = "";
  let inWord = false;
  let quote: '"' | "'" | null = null;
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (quote === "'") {
      if (c === "'") quote = null;
      else cur += c;
      i++;
      continue;
    }
    if (c === "\\") {
      const e = text[i + 1];
      if (e === "x") {
        const hex = text.slice(i + 2, i + 4);
        if (!/^[0-9A-Fa-f]{2}$/.test(hex)) {
          throw cfgError(where, `invalid escape "\\x${hex}": expected two hex digits`);
        }
        cur += String.fromCharCode(parseInt(hex, 16));
        i += 4;
      } else if (e !== undefined && ESCAPES[e] !== undefined) {
        cur += ESCAPES[e];
        i += 2;
      } else {
        cur += c; // not an escape sequence: keep the backslash
        i++;
      }
      inWord = true;
      continue;
    }
    if (quote === '"') {
      if (c === '"') {
        quote = null;
        i++;
      } else if (c === "$") {
        const v = lexVariable(text, i, { where, env });
        cur += v.value;
        i = v.next;
      } else {
        cur += c;
        i++;
      }
      continue;
    }
    if (c === "#") break;
    if (c === " " || c === "\t") {
      if (inWord) words.push(cur);
      cur = "";
      inWord = false;
      i++;
      continue;
    }
    if (c === '"' || c === "'") {
      quote = c;
      inWord = true; // `""` is an empty word
      i++;
      continue;
    }
    if (c === "$" && text[i + 1] === "{") {
      const v = lexVariable(text, i, { where, env });
      cur += v.value;
      // Like a shell, an empty unquoted expansion makes no word by itself.
      if (v.value !== "") inWord = true;
      i = v.next;
      continue;
    }
    cur += c;
    inWord = true;
    i++;
  }
  if (quote !== null) {
    throw cfgError(where, `unterminated ${quote === '"' ? "double" : "single"} quote`);
  }
  if (inWord) words.push(cur);
  return words;
}

/**
 * Splits configuration text into statements, skipping empty and comment-only
 * lines. Lines are numbered from 1; a final CR before each LF is dropped.
 * A line that cannot be split throws, or, when `errors` is given, is added
 * to it and skipped (so that one run reports every such line).
 *
 * @example
 * ```ts
 * import { cfgLex } from "./cfg_lexer.ts";
 * cfgLex("global\n  maxconn 100\n", "a.cfg", {});
 * // [{ file: "a.cfg", line: 1, where: "a.cfg:1", words: ["global"] },
 * //  { file: "a.cfg", line: 2, where: "a.cfg:2", words: ["maxconn", "100"] }]
 * ```
 */
export function cfgLex(
  text: string,
  file: string,
  env: CfgEnv,
  errors?: SluiceError[],
): CfgLine[] {
  const out: CfgLine[] = [];
  const lines = text.split("\n");
  for (let n = 0; n < lines.length; n++) {
    let raw = lines[n];
    if (raw.endsWith("\r")) raw = raw.slice(0, -1);
    const where = `${file}:${n + 1}`;
    let words: string[];
    try {
      words = cfgLexLine(raw, where, env);
    } catch (err) {
      if (errors === undefined || !(err instanceof SluiceError)) throw err;
      errors.push(err);
      continue;
    }
    if (words.length > 0) out.push({ file, line: n + 1, where, words });
  }
  return out;
}
