/**
 * Types of the HTTP action registry (HAProxy's act-t.h and the
 * `action_kw_list`s of http_act.c): which rule sets an action may appear
 * in, what compiling one is given, and what a compiled action is.
 *
 * An action is compiled once, at load time, into an object whose `run()`
 * the rules call for each message (HAProxy's `rule->action_ptr`): all the
 * parsing, validation and precomputation (lowercased names, built replies,
 * regexes) happens in `compile`, so `run` only does the per-message work.
 *
 * @module
 */
import type { FlagTable } from "../core/flags.ts";
import type { RewriteOptions } from "../http/h1_rewrite.ts";
import type { Reply } from "../http/http_reply.ts";
import type { AclCtx, AclFetch } from "./acl_types.ts";

/** Phase bit: the action may appear in `http-request` rules (HAProxy's ACT_F_HTTP_REQ). */
export const ACT_F_HTTP_REQ = 1;
/** Phase bit: the action may appear in `http-response` rules (ACT_F_HTTP_RES). */
export const ACT_F_HTTP_RES = 2;

/** Rule-set names of the phase bits, for showFlags(), messages and docs. */
export const ACT_F_NAMES: FlagTable = [
  [ACT_F_HTTP_REQ, "http-request"],
  [ACT_F_HTTP_RES, "http-response"],
];

/** The services `http-request use-service` can hand a request to. */
export const SERVICES = ["prometheus-exporter"] as const;
/** A service name. */
export type Service = typeof SERVICES[number];

/** What an answering action answers: a response, or a service to produce it. */
export type RuleAnswer =
  | ({ readonly kind: "reply" } & Reply)
  /** `http-request tarpit`: the reply, sent once the rule set's `timeout tarpit` has passed. */
  | ({ readonly kind: "tarpit" } & Reply)
  | { readonly kind: "service"; readonly name: Service };

/**
 * A header value with `%[fetch]` samples (HAProxy's log-format), expanded
 * for each message: literal text and compiled fetches in order.
 */
export type ValueTemplate = readonly (string | AclFetch)[];

/** A compiled action. */
export interface HttpAct {
  /**
   * Runs the action on the message in `ctx`: header and target changes go
   * into `rw` (whose `drop` and `add` lists the caller provides); an action
   * that answers returns the answer, which stops the rules. Never throws;
   * allocates nothing beyond the values it adds.
   */
  run(ctx: AclCtx, rw: RewriteOptions): RuleAnswer | null;
  /**
   * The response the action always answers with (deny, return, redirect
   * location), for load-time checks such as "larger than a buffer".
   */
  readonly fixedReply?: Reply;
}

/** What an action's `compile` is given besides its words. */
export interface HttpActCompile {
  /** `file:line` (or the field path) for errors. */
  readonly where: string;
  /** ACT_F_HTTP_REQ or ACT_F_HTTP_RES: the rule set being compiled. */
  readonly phase: number;
  /** The keyword as written: `set-header`, `set-var(txn.x)`. */
  readonly kw: string;
  /** The text in parentheses after the name (`txn.x`), matching the row's `arg.re`; else null. */
  readonly arg: string | null;
}

/** One row of HTTP_ACTIONS: everything sluice knows about an action keyword. */
export interface HttpActionDef {
  /** ACT_F_* bits: the rule sets the action may appear in. */
  readonly phases: number;
  /**
   * ACT_F_* bits of rule sets HAProxy has the action in and sluice does not
   * support yet: refused as "not supported yet" (others: "does not exist").
   */
  readonly later?: number;
  /**
   * The argument in parentheses after the name (`set-var(txn.NAME)`): as
   * docs show it, and the texts it accepts (another text makes the keyword
   * unknown). Undefined when it takes none.
   */
  readonly arg?: { readonly name: string; readonly re: RegExp };
  /** The words after the keyword, as docs show them (`[deny_status CODE]`). */
  readonly syntax: string;
  /** One line for docs/keywords.md. */
  readonly doc: string;
  /**
   * A rule using it (the words after `http-request`/`http-response`), valid
   * in each of its rule sets: docs show it and a test compiles it.
   */
  readonly example: string;
  /**
   * Compiles the action's words (after the keyword, before `if`/`unless`).
   * Throws a SluiceError (ERR_CONFIG) at `c.where` for bad words.
   */
  compile(words: readonly string[], c: HttpActCompile): HttpAct;
}
