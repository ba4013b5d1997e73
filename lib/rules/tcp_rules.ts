/**
 * `tcp-request content accept|reject [if|unless cond]` (HAProxy's
 * tcp_inspect_request() in tcp_rules.c): rules run in order on the request
 * bytes buffered so far; the first whose condition holds decides. A
 * condition that cannot be decided on the bytes there yet makes the whole
 * rule set wait for more (HAProxy: "missing_data"), until the bytes are
 * final (client closed, buffer full, inspect-delay over), when it is
 * decided on what is there. No rule matching accepts.
 *
 * @module
 */
import { compileCondition, evalCondition3 } from "./acl_cond.ts";
import {
  ACL_TEST_MISS,
  ACL_TEST_PASS,
  type AclCond,
  type AclCtx,
  type AclMap,
} from "./acl_types.ts";
import { actFail } from "./http_act_args.ts";

/** A compiled `tcp-request content` rule. */
export interface TcpContentRule {
  readonly accept: boolean;
  /** ACL_TEST_* of the condition (`unless` applied), or null: always. */
  readonly cond: ((ctx: AclCtx) => number) | null;
}

/** Verdicts of runTcpContentRules(). */
export const TCP_ACCEPT = 0;
/** A `reject` rule matched. */
export const TCP_REJECT = 1;
/** A condition needs more bytes: run again when some arrive or the bytes are final. */
export const TCP_WAIT = 2;

/**
 * Compiles the words after `tcp-request content` (`accept if { ... }`);
 * `check` refuses a condition that uses fetches the rule cannot feed.
 * Throws SluiceError at `where`.
 */
export function compileTcpContentRule(
  words: readonly string[],
  where: string,
  opts: { acls: AclMap; check?: (cond: AclCond) => void },
): TcpContentRule {
  const [verdict, ...rest] = words;
  if (verdict !== "accept" && verdict !== "reject") {
    actFail(
      where,
      `unsupported action "tcp-request content ${
        verdict ?? ""
      }" (supported: accept, reject [if|unless condition])`,
    );
  }
  if (rest.length > 0 && rest[0] !== "if" && rest[0] !== "unless") {
    actFail(where, `unexpected ${JSON.stringify(rest[0])} after tcp-request content ${verdict}`);
  }
  if (rest.length === 0) return { accept: verdict === "accept", cond: null };
  const c = compileCondition(rest, opts.acls, where);
  opts.check?.(c);
  return { accept: verdict === "accept", cond: (ctx) => evalCondition3(c, ctx) };
}

/**
 * Runs `rules` in order on `ctx` (whose `content` holds the bytes):
 * TCP_ACCEPT, TCP_REJECT, or TCP_WAIT when a condition cannot be decided
 * yet (never once `ctx.content.final`).
 */
export function runTcpContentRules(rules: readonly TcpContentRule[], ctx: AclCtx): number {
  for (let i = 0; i < rules.length; i++) {
    const r = rules[i];
    if (r.cond !== null) {
      const res = r.cond(ctx);
      if (res === ACL_TEST_MISS) return TCP_WAIT;
      if (res !== ACL_TEST_PASS) continue;
    }
    return r.accept ? TCP_ACCEPT : TCP_REJECT;
  }
  return TCP_ACCEPT;
}
