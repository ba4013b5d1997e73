/**
 * Header values with samples (HAProxy's log-format): `%[fetch]` compiled
 * once into a ValueTemplate, expanded for each message. A value without
 * samples stays a plain string, so it costs nothing per message.
 *
 * @module
 */
import { bytesToStr } from "../http/h1_chars.ts";
import { aclFetchParse } from "./acl_fetch.ts";
import {
  type AclCtx,
  type AclFetch,
  type AclSampleSink,
  SMP_USE_L6REQ,
  SMP_USE_RES,
} from "./acl_types.ts";
import { actFail, VALUE } from "./http_act_args.ts";
import type { ValueTemplate } from "./http_act_types.ts";

/**
 * Compiles a header value that may hold `%[fetch]` samples (any ACL fetch
 * the rule can feed, `use`) and `%%`; other `%` forms (HAProxy's `%ci`
 * aliases) are refused with the `%[...]` to write instead. A value without
 * samples stays a plain string.
 */
export function actTemplate(
  where: string,
  what: string,
  v: string | undefined,
  use: number,
): string | ValueTemplate {
  if (v === undefined) actFail(where, `missing value for ${what}`);
  if (!VALUE.test(v)) actFail(where, `control characters are not allowed in ${what}`);
  if (!v.includes("%")) return v;
  const parts: (string | AclFetch)[] = [];
  let text = "";
  for (let i = 0; i < v.length; i++) {
    const c = v[i];
    if (c !== "%") {
      text += c;
      continue;
    }
    if (v[i + 1] === "%") {
      text += "%";
      i++;
      continue;
    }
    if (v[i + 1] !== "[") {
      actFail(
        where,
        `unsupported log-format item "%${
          v.slice(i + 1, i + 3)
        }" in ${what}: write samples as %[fetch] (e.g. %[src]), a literal % as %%`,
      );
    }
    const end = sampleEnd(v, i + 2);
    if (end < 0) actFail(where, `missing "]" after "%[" in ${what}`);
    const word = v.slice(i + 2, end);
    const spec = aclFetchParse(word, where);
    if (typeof spec === "string") actFail(where, `${spec} in ${what}`);
    if ((spec.use & use) === 0) {
      actFail(
        where,
        `"%[${word}]" cannot be used in ${what}: ${
          (spec.use & SMP_USE_L6REQ) !== 0
            ? "it reads the raw request bytes, which only TCP-mode rules see"
            : use === SMP_USE_RES
            ? "request fetches are not known in response rules"
            : "it is only known in response rules"
        }`,
      );
    }
    if (text !== "") parts.push(text);
    text = "";
    parts.push(spec.fetch.sample ?? spec.fetch);
    i = end;
  }
  if (text !== "") parts.push(text);
  return parts;
}

/**
 * Index of the `]` that closes the sample starting at `i`: brackets inside
 * quotes or nested (a regsub() class, `[?;&]`) do not close it; -1 if none.
 */
export function sampleEnd(v: string, i: number): number {
  let depth = 0, quote = "";
  for (; i < v.length; i++) {
    const c = v[i];
    if (quote !== "") {
      if (c === quote) quote = "";
    } else if (c === "'" || c === '"') quote = c;
    else if (c === "[") depth++;
    else if (c === "]" && depth-- === 0) return i;
  }
  return -1;
}

/** Takes the first sample a fetch yields, as text (integers and booleans in decimal). */
class Capture implements AclSampleSink {
  out = "";
  matchBytes(a: Uint8Array, pos: number, len: number): boolean {
    this.out = bytesToStr(a, pos, len);
    return true;
  }
  matchInt(n: number): boolean {
    this.out = String(n);
    return true;
  }
}

const CAPTURE = new Capture();

/** The first sample `f` yields for `ctx`, as text, or null when it yields none. */
export function sampleText(f: AclFetch, ctx: AclCtx): string | null {
  CAPTURE.out = "";
  return f.exec(ctx, CAPTURE) ? CAPTURE.out : null;
}

/** A template's value for the message in `ctx`: a fetch without a sample gives "". */
export function templateExpand(t: ValueTemplate, ctx: AclCtx): string {
  let out = "";
  for (const p of t) {
    if (typeof p === "string") {
      out += p;
      continue;
    }
    CAPTURE.out = "";
    if (p.exec(ctx, CAPTURE)) out += CAPTURE.out;
  }
  // Samples come from parsed heads and addresses; never let a line break through.
  return /[\r\n\0]/.test(out) ? out.replace(/[\r\n\0]/g, "") : out;
}
