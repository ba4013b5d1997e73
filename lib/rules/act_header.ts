/**
 * Header actions: `set-header NAME VALUE`, `add-header NAME VALUE`,
 * `del-header NAME` (requests and responses) and `replace-header NAME REGEX
 * REPLACEMENT` (requests). They do not edit the head: they fill the rewrite
 * lists (`rw.drop`, lowercase names to remove; `rw.add`, lines to append)
 * that the head rewrite applies once, after every rule ran.
 *
 * @module
 */
import { errMsg } from "../core/errors.ts";
import { bytesToStr, eqNoCase, lc } from "../http/h1_chars.ts";
import type { RewriteOptions } from "../http/h1_rewrite.ts";
import { type AclCtx, SMP_USE_REQ, SMP_USE_RES } from "./acl_types.ts";
import { actTemplate, templateExpand } from "./act_template.ts";
import { actFail, actHeaderName, actLiteral } from "./http_act_args.ts";
import {
  ACT_F_HTTP_RES,
  type HttpAct,
  type HttpActCompile,
  type ValueTemplate,
} from "./http_act_types.ts";

/** Removes the lines a rule added for header `name` (any case). */
function removeAdded(add: [string, string][], name: string): void {
  const n = name.toLowerCase();
  for (let i = add.length - 1; i >= 0; i--) if (add[i][0].toLowerCase() === n) add.splice(i, 1);
}

/** `set-header`: every `name` header replaced by one of this value. */
class SetHeaderAct implements HttpAct {
  constructor(
    readonly name: string,
    readonly lname: Uint8Array,
    readonly value: string | ValueTemplate,
  ) {}

  run(ctx: AclCtx, rw: RewriteOptions): null {
    const add = rw.add!;
    rw.drop!.push(this.lname);
    // A header set by an earlier rule is replaced too.
    removeAdded(add, this.name);
    const v = this.value;
    add.push([this.name, typeof v === "string" ? v : templateExpand(v, ctx)]);
    return null;
  }
}

/** `add-header`: one more `name` header. */
class AddHeaderAct implements HttpAct {
  constructor(readonly name: string, readonly value: string | ValueTemplate) {}

  run(ctx: AclCtx, rw: RewriteOptions): null {
    const v = this.value;
    rw.add!.push([this.name, typeof v === "string" ? v : templateExpand(v, ctx)]);
    return null;
  }
}

/** `del-header`: every `name` header removed, the received ones and those earlier rules added. */
class DelHeaderAct implements HttpAct {
  constructor(readonly name: string, readonly lname: Uint8Array) {}

  run(_ctx: AclCtx, rw: RewriteOptions): null {
    rw.drop!.push(this.lname);
    removeAdded(rw.add!, this.name);
    return null;
  }
}

/** `replace-header`: each value of `name` matched whole by `re` and replaced by `by`. */
class ReplaceHeaderAct implements HttpAct {
  constructor(
    readonly name: string,
    readonly lname: Uint8Array,
    readonly re: RegExp,
    readonly by: string,
  ) {}

  run(ctx: AclCtx, rw: RewriteOptions): null {
    const drop = rw.drop!, add = rw.add!;
    const lname = this.lname;
    // Values as earlier rules left them: the client's (unless a rule
    // removed or set the header), then those rules added.
    const n = this.name.toLowerCase();
    const values: [string, string][] = [];
    if (!drop.some((d) => d.length === lname.length && eqNoCase(d, 0, d.length, lname))) {
      const { msg, a: buf, base } = ctx;
      const h = msg.hdrs;
      for (let i = 0; i < msg.nHdrs; i++) {
        const k = i * 4;
        if (!eqNoCase(buf, base + h[k], h[k + 1], lname)) continue;
        values.push([
          bytesToStr(buf, base + h[k], h[k + 1]),
          bytesToStr(buf, base + h[k + 2], h[k + 3]),
        ]);
      }
    }
    for (const x of add) if (x[0].toLowerCase() === n) values.push([x[0], x[1]]);
    const changed = values.map(([k, v]): [string, string] => [k, v.replace(this.re, this.by)]);
    // A replacement may not smuggle a line break in.
    if (changed.length === 0 || changed.some(([, v]) => /[\r\n\0]/.test(v))) return null;
    drop.push(lname);
    removeAdded(add, this.name);
    for (const x of changed) add.push(x);
    return null;
  }
}

/** `set-header NAME VALUE` and `add-header NAME VALUE` (VALUE may hold `%[fetch]`). */
function headerValueCompile(w: readonly string[], c: HttpActCompile, set: boolean): HttpAct {
  const kw = c.kw;
  const name = actHeaderName(c.where, w[0], set ? "set" : "add");
  const use = c.phase === ACT_F_HTTP_RES ? SMP_USE_RES : SMP_USE_REQ;
  const value = actTemplate(c.where, `${kw} ${name}`, w[1], use);
  if (w.length > 2) {
    actFail(c.where, `unexpected ${JSON.stringify(w[2])} after ${kw} (quote values with spaces)`);
  }
  return set ? new SetHeaderAct(name, lc(name), value) : new AddHeaderAct(name, value);
}

/** Compiles `set-header NAME VALUE`. */
export function actSetHeaderCompile(w: readonly string[], c: HttpActCompile): HttpAct {
  return headerValueCompile(w, c, true);
}

/** Compiles `add-header NAME VALUE`. */
export function actAddHeaderCompile(w: readonly string[], c: HttpActCompile): HttpAct {
  return headerValueCompile(w, c, false);
}

/** Compiles `del-header NAME`. */
export function actDelHeaderCompile(w: readonly string[], c: HttpActCompile): HttpAct {
  const name = actHeaderName(c.where, w[0], "del");
  if (w.length > 1) actFail(c.where, `unexpected ${JSON.stringify(w[1])} after del-header`);
  return new DelHeaderAct(name.toLowerCase(), lc(name));
}

/** Compiles `replace-header NAME REGEX REPLACEMENT` (HAProxy's `\1` groups). */
export function actReplaceHeaderCompile(w: readonly string[], c: HttpActCompile): HttpAct {
  const where = c.where;
  const name = actHeaderName(where, w[0], "set");
  const src = actLiteral(where, "replace-header regex", w[1]);
  const by = actLiteral(where, "replace-header replacement", w[2]);
  if (w.length > 3) actFail(where, `unexpected ${JSON.stringify(w[3])} after replace-header`);
  let re: RegExp;
  try {
    re = new RegExp(`^(?:${src})$`);
  } catch (err) {
    actFail(where, `invalid regex ${JSON.stringify(src)}: ${errMsg(err)}`);
  }
  // HAProxy writes groups as \1; JavaScript as $1.
  return new ReplaceHeaderAct(name, lc(name), re, by.replace(/\\([0-9])/g, "$$$1"));
}
