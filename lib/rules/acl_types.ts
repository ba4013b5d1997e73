/**
 * ACL engine types, after HAProxy's acl-t.h / pattern-t.h / sample-t.h.
 *
 * Vocabulary (one word per concept):
 *
 * - **fetch**: extracts samples from a request (`path`, `hdr(host)`, `src`).
 *   A fetch may yield zero samples (`hdr(x)` when there is no X header), one,
 *   or several (`hdr(x)` yields each comma-separated element of each X
 *   header).
 * - **sample**: one value a fetch yields, of type SMP_T_*. String samples
 *   are byte ranges of the request buffer, never JS strings.
 * - **matcher**: the compiled patterns of one ACL expression together with
 *   a matching method (`-m str|beg|end|sub|reg|dom|dir|len|int|ip|found|bool`).
 *   A sample matches when any pattern matches it (patterns are ORed).
 * - **expr**: one `fetch [flags] patterns...`: true when any sample of the
 *   fetch matches. The `acl` line and `{ ... }` in a condition both hold one.
 * - **acl**: a named (or anonymous) list of exprs, true when any is true: an
 *   `acl NAME ...` line repeated with the same name adds an expr (HAProxy
 *   ORs them).
 * - **cond**: `if|unless` followed by terms; terms are ANDed, `||`/`or`
 *   separates ANDed suites that are ORed.
 *
 * Evaluation never throws and never allocates except where a matcher needs a
 * JS string (regex); everything that can fail is checked at compile time.
 *
 * @module
 */
import type { CacheSlot } from "../http/cache_txn.ts";
import type { FlagTable } from "../core/flags.ts";
import type { HttpMsg } from "../http/h1_types.ts";
import type { TlsHelloScan } from "./tls_hello.ts";

/**
 * What an ACL is evaluated against: a parsed request head and the
 * connection facts that are not in it. Offsets in `msg` are relative to
 * `base` in `a` (as h1ParseHead() records them).
 */
export interface AclCtx {
  /** The parsed head: the request's, or the response's in http-response rules. */
  msg: HttpMsg;
  /** The bytes the head was parsed from. */
  a: Uint8Array;
  /** Offset in `a` of the head's first byte. */
  base: number;
  /** Client IP address as text (`10.0.0.1`, `::1`, `::ffff:10.0.0.1`); no port, no brackets. */
  src: string;
  /** TLS SNI sent by the client, null when none (or not TLS). */
  sni: string | null;
  /** Variables set by `http-request set-var` for this request (`txn.name`), or null/absent. */
  vars?: Map<string, string> | null;
  /** Client port (0 or absent: unknown, unix). */
  srcPort?: number;
  /** The address and port the client connected to ("" or absent: unix). */
  dst?: string;
  dstPort?: number;
  /** The client connection is TLS (terminated here). */
  tls?: boolean;
  /**
   * The client connection's TLS socket (null or absent: not TLS). The
   * ssl_fc_* / ssl_c_* fetches read what its handshake left (tlsInfoOf()),
   * only when a rule uses them: nothing is looked up per request otherwise.
   */
  tlsSock?: unknown;
  /** The request's unique id (`unique-id-format`), null or absent when none. */
  uniqueId?: string | null;
  /** TCP content inspection: the request bytes buffered so far; absent or null elsewhere. */
  content?: AclContent | null;
  /** HTTP: the transaction's slot for the cache actions (`cache-use`, `cache-store`); absent or null elsewhere. */
  cache?: CacheSlot | null;
}

/**
 * The raw request bytes a `tcp-request content` rule (or `use_backend` in
 * TCP mode) sees: the input buffered so far, contiguous, which only grows
 * while rules inspect it. A fetch that cannot decide on them yet sets
 * `miss` (HAProxy's SMP_F_MAY_CHANGE): unless `final`, the rule waits for
 * more bytes instead of failing.
 */
export interface AclContent {
  /** The bytes are `a[pos, pos + len)`. */
  a: Uint8Array;
  pos: number;
  len: number;
  /** The buffer's size: what can never fit will never match. */
  cap: number;
  /** The bytes can no longer change: client closed, buffer full, inspect-delay over or none. */
  final: boolean;
  /** Set by a fetch whose answer may change with more bytes; the evaluator clears it. */
  miss: boolean;
  /** The TLS ClientHello scan of these bytes, kept between evaluations (incremental). */
  readonly hello: TlsHelloScan;
}

/** Sample types (SMP_T_*): the type of the values a fetch yields. */
export const SMP_T_BOOL = 1;
/** Integer sample. */
export const SMP_T_INT = 2;
/** Byte string sample (a range of the request, or of a scratch buffer). */
export const SMP_T_STR = 3;
/** IP address sample, as its text bytes. */
export const SMP_T_IP = 4;
/** Binary sample (raw request bytes): no default method (`-m bin` takes hex patterns). */
export const SMP_T_BIN = 5;

/**
 * Where a fetch finds its input (HAProxy's SMP_USE_*): the connection (a
 * `tcp-request connection` rule), a request head, a response head. A rule
 * refuses at load time a condition using a fetch it cannot feed.
 */
export const SMP_USE_CONN = 1;
/** A parsed request head (http-request rules, use_backend). */
export const SMP_USE_REQ = 2;
/** A parsed response head (http-response rules). */
export const SMP_USE_RES = 4;
/**
 * The raw request bytes (HAProxy's SMP_USE_L6REQ): `tcp-request content`
 * rules and `use_backend` of a TCP-mode frontend.
 */
export const SMP_USE_L6REQ = 8;

/** Names of sample types, indexed by SMP_T_*. */
export const SMP_T_NAMES: readonly string[] = [
  "none",
  "boolean",
  "integer",
  "string",
  "address",
  "binary",
];

/** Matching methods, as written after `-m`. */
export type AclMatchKind =
  | "str" // exact string
  | "beg" // prefix
  | "end" // suffix
  | "sub" // substring
  | "reg" // regular expression (search, not anchored)
  | "dom" // a run of whole labels delimited by / ? . : or the ends
  | "dir" // a run of whole segments delimited by / ? or the ends
  | "len" // length of the sample against integer ranges
  | "int" // integer ranges
  | "ip" // IPv4/IPv6 address or network
  | "bin" // the sample equals a pattern given in hex
  | "found" // the fetch yielded at least one sample; no pattern
  | "bool"; // the boolean sample is true; no pattern

/** Why a pattern was refused at compile time (turned into a config error by compileAcl()). */
export interface AclBadPat {
  /** The pattern as written. */
  readonly pat: string;
  /** Why, in words (lower case, no final period). */
  readonly why: string;
}

/**
 * What a fetch hands its samples to, one at a time, stopping at the first
 * `true`: a matcher, or a converter that passes what it makes of each
 * sample on. Implementations must not throw nor keep anything between calls.
 */
export interface AclSampleSink {
  /** A string (or address) sample: the bytes `a[pos, pos + len)`. True stops the fetch. */
  matchBytes(a: Uint8Array, pos: number, len: number): boolean;
  /** An integer (or boolean, as 0/1) sample. True stops the fetch. */
  matchInt(n: number): boolean;
}

/**
 * The compiled patterns of one expr: `matchBytes`/`matchInt` are true when
 * a pattern matches the sample.
 */
export interface AclMatcher extends AclSampleSink {
  /** Matching method. */
  readonly kind: AclMatchKind;
}

/**
 * A compiled fetch: finds its samples in the request and hands each to the
 * matcher, returning true at the first match (false when there is no
 * sample or none matches).
 */
export interface AclFetch {
  /** The fetch as written (`hdr(host)`), for messages and dumps. */
  readonly kw: string;
  /** SMP_T_* of its samples. */
  readonly type: number;
  /** Runs the fetch; never throws. */
  exec(ctx: AclCtx, m: AclSampleSink): boolean;
  /**
   * The fetch to run where a sample is taken (`%[...]`, set-var) rather than
   * matched, when it differs (`http_auth_group` gives the user's name as a
   * sample and the user's groups to an ACL, as HAProxy); absent: this one.
   */
  readonly sample?: AclFetch;
}

/** The -i flag: compare strings ignoring ASCII case. */
export const ACL_EF_ICASE = 1 << 0;
/** The -n flag: no DNS resolution of patterns (sluice never resolves; accepted for HAProxy configs). */
export const ACL_EF_NODNS = 1 << 1;
/** The matching method was given with -m (not the fetch's default). */
export const ACL_EF_EXPLICIT_M = 1 << 2;

/** Names for `showFlags()`. */
export const ACL_EF_NAMES: FlagTable = [
  [ACL_EF_ICASE, "ICASE"],
  [ACL_EF_NODNS, "NODNS"],
  [ACL_EF_EXPLICIT_M, "EXPLICIT_M"],
];

/** One compiled `fetch [flags] patterns...`. */
export interface AclExpr {
  /** The words it was compiled from, joined by spaces (for dumps). */
  readonly text: string;
  /** `file:line` it comes from. */
  readonly where: string;
  /** ACL_EF_* bits. */
  readonly flags: number;
  readonly fetch: AclFetch;
  readonly matcher: AclMatcher;
  /** SMP_USE_* bits: where the fetch has its input. */
  readonly use: number;
}

/** A named ACL (or an anonymous one, from braces): true when any expr is. */
export interface Acl {
  /** Name; anonymous ACLs are named after their text in braces. */
  readonly name: string;
  /** Exprs in declaration order; a later `acl` line with the same name appends. */
  readonly exprs: AclExpr[];
}

/** Named ACLs of one proxy section, by name (case-sensitive, as HAProxy). */
export type AclMap = Map<string, Acl>;

/** One term of a condition: an ACL, maybe negated with `!`. */
export interface AclTerm {
  readonly acl: Acl;
  readonly neg: boolean;
}

/** `if` condition: true when the terms say so. */
export const ACL_COND_IF = 1;
/** `unless` condition: true when the terms say otherwise. */
export const ACL_COND_UNLESS = 2;

/**
 * Results of an ACL or condition evaluated on bytes that may still grow
 * (HAProxy's acl_test_res): fail, miss (cannot decide yet: wait for more
 * bytes), pass. The values make AND (`&`), OR (`|`) and NOT (`3 >> r`)
 * bitwise, as in HAProxy.
 */
export const ACL_TEST_FAIL = 0;
/** Cannot decide yet: the rule waits for more bytes. */
export const ACL_TEST_MISS = 1;
/** True. */
export const ACL_TEST_PASS = 3;

/** A compiled condition: OR of suites, each an AND of terms. */
export interface AclCond {
  /** ACL_COND_IF or ACL_COND_UNLESS. */
  readonly pol: number;
  /** At least one suite, each with at least one term. */
  readonly suites: readonly (readonly AclTerm[])[];
  /** `file:line` it comes from. */
  readonly where: string;
}
