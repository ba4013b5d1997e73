/**
 * `set-var(txn.NAME) EXPR` (requests): stores a value for the `var()` fetch
 * of later rules, `use_backend` and the response rules of the same request.
 * EXPR is a literal (`str(TEXT)`) or one of a few request samples.
 *
 * @module
 */
import { bytesToStr, eqNoCase, lc } from "../http/h1_chars.ts";
import type { AclCtx } from "./acl_types.ts";
import { actFail, actLiteral, TOKEN } from "./http_act_args.ts";
import type { HttpAct, HttpActCompile } from "./http_act_types.ts";
import { targetOf } from "./http_target.ts";

/** The value a `set-var` stores: a literal, or one of a few request samples. */
export type VarSample =
  | { kind: "str"; value: string }
  | { kind: "hdr"; lname: Uint8Array }
  | { kind: "path" | "method" | "src" };

function varSample(where: string, words: readonly string[]): VarSample {
  const w = words.join(" ");
  let m = /^str\((.*)\)$/s.exec(w);
  if (m !== null) return { kind: "str", value: actLiteral(where, "set-var str()", m[1]) };
  m = /^(?:req\.)?hdr\(([^()]+)\)$/.exec(w);
  if (m !== null && TOKEN.test(m[1])) return { kind: "hdr", lname: lc(m[1]) };
  if (w === "path" || w === "method" || w === "src") return { kind: w };
  return actFail(
    where,
    `unsupported set-var expression ${
      JSON.stringify(w)
    } (supported: str(TEXT), req.hdr(NAME), path, method, src)`,
  );
}

function sampleValue(s: VarSample, ctx: AclCtx): string | null {
  const { msg, a, base } = ctx;
  switch (s.kind) {
    case "str":
      return s.value;
    case "src":
      return ctx.src;
    case "method":
      return bytesToStr(a, base + msg.methPos, msg.methLen);
    case "path": {
      const t = targetOf(ctx);
      const q = t.indexOf("?");
      return q < 0 ? t : t.slice(0, q);
    }
    case "hdr": {
      const h = msg.hdrs;
      for (let i = 0; i < msg.nHdrs; i++) {
        const k = i * 4;
        if (eqNoCase(a, base + h[k], h[k + 1], s.lname)) {
          return bytesToStr(a, base + h[k + 2], h[k + 3]);
        }
      }
      return null;
    }
  }
}

/** Stores a sample's value (none: nothing stored) under `name` in the request's variables. */
class SetVarAct implements HttpAct {
  constructor(readonly name: string, readonly sample: VarSample) {}

  run(ctx: AclCtx): null {
    const v = sampleValue(this.sample, ctx);
    if (v !== null) (ctx.vars ??= new Map()).set(this.name, v);
    return null;
  }
}

/** The variable names `set-var(...)` takes: `txn.NAME` (or `req.NAME`, the same here). */
export const VAR_NAME = /^(?:txn|req)\.[A-Za-z0-9_.]+$/;

/** Compiles `set-var(txn.NAME) EXPR` (`c.arg` matched VAR_NAME). */
export function actSetVarCompile(w: readonly string[], c: HttpActCompile): HttpAct {
  if (w.length < 1) actFail(c.where, `missing value for "${c.kw}"`);
  // txn and req scopes are the same here: one request.
  return new SetVarAct(c.arg!.replace(/^req\./, "txn."), varSample(c.where, w));
}
