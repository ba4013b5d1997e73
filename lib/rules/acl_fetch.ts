/**
 * The fetch registry (HAProxy's `sample_fetch_keywords` and `acl_kws`):
 *
 * - ACL_FETCHES: one row per sample fetch (`path`, `hdr(name)`, `src`…):
 *   where its input is known (SMP_USE_*: a `tcp-request connection` rule
 *   knows only the connection, a response rule the response), the type of
 *   its samples, its arguments, its doc line, and how it compiles (the
 *   implementations are in fetch_http.ts and fetch_conn.ts);
 * - ACL_KEYWORDS: the ACL keywords that name a fetch with another default
 *   matching method (`path_beg` is `path -m beg`).
 *
 * A fetch's default method follows its sample type (`str`, `int`, `ip`,
 * `bool`). aclFetchParse() reads a fetch word, with its arguments and any
 * converters (acl_conv.ts), for ACL expressions and `%[...]` samples alike;
 * docs/keywords.md is generated from the rows. Adding a fetch is its class
 * and compile function in a fetch file and one row here.
 *
 * @module
 */
import { ACL_CONVERTERS, aclConvDef, convArgsRead, convBinInput, ConvFetch } from "./acl_conv.ts";
import {
  type AclBadPat,
  type AclFetch,
  type AclMatchKind,
  SMP_T_BIN,
  SMP_T_BOOL,
  SMP_T_INT,
  SMP_T_IP,
  SMP_T_NAMES,
  SMP_T_STR,
  SMP_USE_CONN,
  SMP_USE_L6REQ,
  SMP_USE_REQ,
  SMP_USE_RES,
} from "./acl_types.ts";
import {
  fetchDstNew,
  fetchDstPortNew,
  fetchFalseNew,
  fetchSniNew,
  fetchSrcNew,
  fetchSrcPortNew,
  fetchSslFcNew,
  fetchTrueNew,
  fetchUniqueIdNew,
  fetchUuidNew,
  fetchVarNew,
} from "./fetch_conn.ts";
import { fetchHttpAuthGroupNew, fetchHttpAuthNew } from "./fetch_auth.ts";
import { fetchCacheHitNew, fetchCacheNameNew } from "./fetch_cache.ts";
import {
  fetchSslCDerNew,
  fetchSslCSerialNew,
  fetchSslCSha1New,
  fetchSslCUsedNew,
  fetchSslCVerifyNew,
  fetchSslTextNew,
} from "./fetch_ssl.ts";
import {
  fetchBodySizeNew,
  fetchCookCntNew,
  fetchCookNew,
  fetchFhdrCntNew,
  fetchFhdrNew,
  fetchHdrCntNew,
  fetchHdrNew,
  fetchMethodNew,
  fetchPathNew,
  fetchQueryNew,
  fetchStatusNew,
  fetchUrlNew,
  fetchUrlParamNew,
  fetchVerNew,
} from "./fetch_http.ts";
import {
  dottedVersionPats,
  fetchPayloadLvNew,
  fetchPayloadNew,
  fetchReqLenNew,
  fetchSslHelloTypeNew,
  fetchSslSniNew,
  fetchSslVerNew,
} from "./fetch_payload.ts";

/** One row of ACL_FETCHES. */
export interface AclFetchDef {
  /** SMP_USE_* bits: the rules that can feed it. */
  readonly use: number;
  /** SMP_T_* of its samples (its default matching method follows). */
  readonly type: number;
  /** Its arguments in parentheses as docs show them (`name[,occ]`); undefined: none allowed. */
  readonly args?: string;
  /** One line for docs/keywords.md. */
  readonly doc: string;
  /**
   * How ACL patterns are read when no `-m` is given, turned into the default
   * method's (`req.ssl_ver`: dotted versions); undefined: as the method reads them.
   */
  readonly pats?: (pats: readonly string[]) => string[] | AclBadPat;
  /** Builds the fetch (`word` as written, for messages) from its arguments, or says why not. */
  compile(word: string, args: readonly string[]): AclFetch | string;
}

const REQ = SMP_USE_REQ, RES = SMP_USE_RES, HTTP = REQ | RES, ANY = SMP_USE_CONN | HTTP;
const L6 = SMP_USE_L6REQ;

const HDR_DOC = "each comma-separated element of each NAME header (quotes respected, " +
  "spaces trimmed); occ > 0: only the occ-th, < 0: counted from the last";
const FHDR_DOC = "like hdr() but whole header values, not split on commas";
const HDR_CNT_DOC = "the number of elements hdr(NAME) would give; no NAME: of all headers";
const FHDR_CNT_DOC = "the number of NAME headers; no NAME: of all headers";

/** Every sample fetch, by name. */
export const ACL_FETCHES: Readonly<Record<string, AclFetchDef>> = {
  "path": {
    use: REQ,
    type: SMP_T_STR,
    doc: "The target's path, without the query; none for `*` or an absolute target without " +
      "a path",
    compile: fetchPathNew,
  },
  "url": {
    use: REQ,
    type: SMP_T_STR,
    doc: "The whole request target as received",
    compile: fetchUrlNew,
  },
  "query": {
    use: REQ,
    type: SMP_T_STR,
    doc: "The part after the first `?`; empty when there is none",
    compile: fetchQueryNew,
  },
  "url_param": {
    use: REQ,
    type: SMP_T_STR,
    args: "[name[,delim]]",
    doc: "The value of each `name=` parameter of the query (parameters end at `&`, `;` or " +
      "delim); no name: every parameter's value",
    compile: fetchUrlParamNew,
  },
  "urlp": {
    use: REQ,
    type: SMP_T_STR,
    args: "[name[,delim]]",
    doc: "Same as url_param()",
    compile: fetchUrlParamNew,
  },
  "hdr": {
    use: HTTP,
    type: SMP_T_STR,
    args: "name[,occ]",
    doc: `In the head the rule sees (the response's in http-response rules): ${HDR_DOC}`,
    compile: fetchHdrNew,
  },
  "req.hdr": {
    use: REQ,
    type: SMP_T_STR,
    args: "name[,occ]",
    doc: `In the request: ${HDR_DOC}`,
    compile: fetchHdrNew,
  },
  "res.hdr": {
    use: RES,
    type: SMP_T_STR,
    args: "name[,occ]",
    doc: `In the response: ${HDR_DOC}`,
    compile: fetchHdrNew,
  },
  "shdr": {
    use: RES,
    type: SMP_T_STR,
    args: "name[,occ]",
    doc: "Same as res.hdr()",
    compile: fetchHdrNew,
  },
  "fhdr": {
    use: HTTP,
    type: SMP_T_STR,
    args: "name[,occ]",
    doc: `In the head the rule sees: ${FHDR_DOC}`,
    compile: fetchFhdrNew,
  },
  "req.fhdr": {
    use: REQ,
    type: SMP_T_STR,
    args: "name[,occ]",
    doc: `In the request: ${FHDR_DOC}`,
    compile: fetchFhdrNew,
  },
  "res.fhdr": {
    use: RES,
    type: SMP_T_STR,
    args: "name[,occ]",
    doc: `In the response: ${FHDR_DOC}`,
    compile: fetchFhdrNew,
  },
  "hdr_cnt": {
    use: HTTP,
    type: SMP_T_INT,
    args: "[name]",
    doc: `In the head the rule sees: ${HDR_CNT_DOC}`,
    compile: fetchHdrCntNew,
  },
  "req.hdr_cnt": {
    use: REQ,
    type: SMP_T_INT,
    args: "[name]",
    doc: `In the request: ${HDR_CNT_DOC}`,
    compile: fetchHdrCntNew,
  },
  "res.hdr_cnt": {
    use: RES,
    type: SMP_T_INT,
    args: "[name]",
    doc: `In the response: ${HDR_CNT_DOC}`,
    compile: fetchHdrCntNew,
  },
  "fhdr_cnt": {
    use: HTTP,
    type: SMP_T_INT,
    args: "[name]",
    doc: `In the head the rule sees: ${FHDR_CNT_DOC}`,
    compile: fetchFhdrCntNew,
  },
  "req.fhdr_cnt": {
    use: REQ,
    type: SMP_T_INT,
    args: "[name]",
    doc: `In the request: ${FHDR_CNT_DOC}`,
    compile: fetchFhdrCntNew,
  },
  "res.fhdr_cnt": {
    use: RES,
    type: SMP_T_INT,
    args: "[name]",
    doc: `In the response: ${FHDR_CNT_DOC}`,
    compile: fetchFhdrCntNew,
  },
  "req.cook": {
    use: REQ,
    type: SMP_T_STR,
    args: "[name]",
    doc: "The value of each cookie NAME of the Cookie headers (a sample is the last one); " +
      "no name: every cookie's value (a sample is the first one)",
    compile: fetchCookNew,
  },
  "cook": {
    use: REQ,
    type: SMP_T_STR,
    args: "[name]",
    doc: "Same as req.cook()",
    compile: fetchCookNew,
  },
  "req.cook_cnt": {
    use: REQ,
    type: SMP_T_INT,
    args: "[name]",
    doc: "The number of cookies NAME in the Cookie headers; no name: of all cookies",
    compile: fetchCookCntNew,
  },
  "cook_cnt": {
    use: REQ,
    type: SMP_T_INT,
    args: "[name]",
    doc: "Same as req.cook_cnt()",
    compile: fetchCookCntNew,
  },
  "req.body_size": {
    use: REQ,
    type: SMP_T_INT,
    doc: "The request's Content-Length; 0 without a body, and for a chunked body (rules " +
      "run before any of it is read)",
    compile: fetchBodySizeNew,
  },
  "method": {
    use: REQ,
    type: SMP_T_STR,
    doc: "The request method, case-sensitive",
    compile: fetchMethodNew,
  },
  "req.ver": {
    use: REQ,
    type: SMP_T_STR,
    doc: "The request's HTTP version: `1.0` or `1.1`",
    compile: fetchVerNew,
  },
  "req_ver": { use: REQ, type: SMP_T_STR, doc: "Same as req.ver", compile: fetchVerNew },
  "res.ver": {
    use: RES,
    type: SMP_T_STR,
    doc: "The response's HTTP version: `1.0` or `1.1`",
    compile: fetchVerNew,
  },
  "resp_ver": { use: RES, type: SMP_T_STR, doc: "Same as res.ver", compile: fetchVerNew },
  "status": {
    use: RES,
    type: SMP_T_INT,
    doc: "The response status",
    compile: fetchStatusNew,
  },
  "res.cache_hit": {
    use: RES,
    type: SMP_T_BOOL,
    doc: "True when the response comes from a cache (`http-request cache-use`)",
    compile: fetchCacheHitNew,
  },
  "res.cache_name": {
    use: RES,
    type: SMP_T_STR,
    doc: "The name of the cache the response comes from; no sample otherwise",
    compile: fetchCacheNameNew,
  },
  "src": {
    use: ANY,
    type: SMP_T_IP,
    doc: "The client address (from the PROXY header when the bind accepts one)",
    compile: fetchSrcNew,
  },
  "src_port": {
    use: ANY,
    type: SMP_T_INT,
    doc: "The client's port",
    compile: fetchSrcPortNew,
  },
  "dst": {
    use: ANY,
    type: SMP_T_IP,
    doc: "The address the client connected to",
    compile: fetchDstNew,
  },
  "dst_port": {
    use: ANY,
    type: SMP_T_INT,
    doc: "The port the client connected to",
    compile: fetchDstPortNew,
  },
  "ssl_fc": {
    use: ANY,
    type: SMP_T_BOOL,
    doc: "True when the client connection is TLS (terminated here)",
    compile: fetchSslFcNew,
  },
  "req.len": {
    use: L6,
    type: SMP_T_INT,
    doc: "The number of request bytes buffered (TCP content inspection: a failed match waits " +
      "for more until the inspect-delay ends)",
    compile: fetchReqLenNew,
  },
  "req_len": { use: L6, type: SMP_T_INT, doc: "Same as req.len", compile: fetchReqLenNew },
  "req.payload": {
    use: L6,
    type: SMP_T_BIN,
    args: "offset,length",
    doc: "The length request bytes at offset (length 0: all from offset); waits until they " +
      "are there",
    compile: fetchPayloadNew,
  },
  "req.payload_lv": {
    use: L6,
    type: SMP_T_BIN,
    args: "offset1,length[,offset2]",
    doc: "The block whose size is the length-byte big-endian integer at offset1, starting " +
      "after it or at offset2 (+N/-N: relative to after it)",
    compile: fetchPayloadLvNew,
  },
  "req.ssl_hello_type": {
    use: L6,
    type: SMP_T_INT,
    doc: "The type of the first TLS handshake message once it is whole (1: ClientHello), " +
      "read from the raw bytes (TCP mode, TLS not terminated)",
    compile: fetchSslHelloTypeNew,
  },
  "req_ssl_hello_type": {
    use: L6,
    type: SMP_T_INT,
    doc: "Same as req.ssl_hello_type",
    compile: fetchSslHelloTypeNew,
  },
  "req.ssl_sni": {
    use: L6,
    type: SMP_T_STR,
    doc: "The server name (SNI) of the client's TLS ClientHello, read from the raw bytes " +
      "(TCP mode, TLS not terminated: route TLS by name); none when absent",
    compile: fetchSslSniNew,
  },
  "req_ssl_sni": { use: L6, type: SMP_T_STR, doc: "Same as req.ssl_sni", compile: fetchSslSniNew },
  "req.ssl_ver": {
    use: L6,
    type: SMP_T_INT,
    doc: "The SSL/TLS version the client announces, major * 65536 + minor; ACL patterns are " +
      "dotted (`3.1`, `3.1:3.3`)",
    pats: dottedVersionPats,
    compile: fetchSslVerNew,
  },
  "req_ssl_ver": {
    use: L6,
    type: SMP_T_INT,
    doc: "Same as req.ssl_ver",
    pats: dottedVersionPats,
    compile: fetchSslVerNew,
  },
  "ssl_fc_sni": {
    use: HTTP | L6,
    type: SMP_T_STR,
    doc: "The server name the client sent in the TLS handshake terminated here (SNI)",
    compile: fetchSniNew,
  },
  "ssl_fc_protocol": {
    use: HTTP | L6,
    type: SMP_T_STR,
    doc: "The TLS version of the client connection (`TLSv1.2`, `TLSv1.3`)",
    compile: fetchSslTextNew("protocol"),
  },
  "ssl_fc_cipher": {
    use: HTTP | L6,
    type: SMP_T_STR,
    doc: "The cipher suite of the client connection, OpenSSL's name",
    compile: fetchSslTextNew("cipher"),
  },
  "ssl_fc_alpn": {
    use: HTTP | L6,
    type: SMP_T_STR,
    doc: "The ALPN protocol chosen with the client (`bind ... alpn`); none when none",
    compile: fetchSslTextNew("alpn"),
  },
  "ssl_c_used": {
    use: HTTP | L6,
    type: SMP_T_BOOL,
    doc: "True when the client sent a certificate (`bind ... verify optional|required`)",
    compile: fetchSslCUsedNew,
  },
  "ssl_c_verify": {
    use: HTTP | L6,
    type: SMP_T_INT,
    doc: "The X509_V_ERR code of the client certificate's check (0: verified, or none sent); " +
      "non-zero only when the error is ignored (`ca-ignore-err`, `crt-ignore-err`)",
    compile: fetchSslCVerifyNew,
  },
  "ssl_c_s_dn": {
    use: HTTP | L6,
    type: SMP_T_STR,
    doc: "The client certificate's subject, `/C=FR/O=Acme/CN=alice`",
    compile: fetchSslTextNew("s_dn"),
  },
  "ssl_c_i_dn": {
    use: HTTP | L6,
    type: SMP_T_STR,
    doc: "The client certificate's issuer, `/C=FR/O=Acme CA/CN=ca`",
    compile: fetchSslTextNew("i_dn"),
  },
  "ssl_c_notafter": {
    use: HTTP | L6,
    type: SMP_T_STR,
    doc: "The client certificate's end date, `YYMMDDhhmmssZ`",
    compile: fetchSslTextNew("notafter"),
  },
  "ssl_c_notbefore": {
    use: HTTP | L6,
    type: SMP_T_STR,
    doc: "The client certificate's start date, `YYMMDDhhmmssZ`",
    compile: fetchSslTextNew("notbefore"),
  },
  "ssl_c_serial": {
    use: HTTP | L6,
    type: SMP_T_BIN,
    doc: "The client certificate's serial number, bytes (`,hex` for text)",
    compile: fetchSslCSerialNew,
  },
  "ssl_c_sha1": {
    use: HTTP | L6,
    type: SMP_T_BIN,
    doc: "SHA-1 of the client certificate's DER, bytes (`,hex` for text)",
    compile: fetchSslCSha1New,
  },
  "ssl_c_der": {
    use: HTTP | L6,
    type: SMP_T_BIN,
    doc: "The client certificate, DER bytes (`,base64` for text)",
    compile: fetchSslCDerNew,
  },
  "var": {
    use: HTTP,
    type: SMP_T_STR,
    args: "txn.NAME",
    doc: "A variable set by `http-request set-var` for this request",
    compile: fetchVarNew,
  },
  "uuid": {
    use: ANY,
    type: SMP_T_STR,
    args: "[4]",
    doc: "A new random UUID (RFC 4122 version 4) for each use",
    compile: fetchUuidNew,
  },
  "unique-id": {
    use: HTTP,
    type: SMP_T_STR,
    doc: "The request's unique id (`unique-id-format`); none without one",
    compile: fetchUniqueIdNew,
  },
  "http_auth": {
    use: REQ,
    type: SMP_T_BOOL,
    args: "userlist",
    doc: "True when the request's Basic credentials are those of a user of the userlist",
    compile: fetchHttpAuthNew,
  },
  "http_auth_group": {
    use: REQ,
    type: SMP_T_STR,
    args: "userlist",
    doc: "In an ACL, each group of the user whose Basic credentials the request carries " +
      "(`acl admin http_auth_group(L) admin`); as a sample, that user's name",
    compile: fetchHttpAuthGroupNew,
  },
  "always_true": {
    use: ANY,
    type: SMP_T_BOOL,
    doc: "True",
    compile: fetchTrueNew,
  },
  "always_false": {
    use: ANY,
    type: SMP_T_BOOL,
    doc: "False",
    compile: fetchFalseNew,
  },
};

/**
 * ACL keywords naming a fetch with another default matching method
 * (HAProxy's acl_kws): keyword → [fetch, method]. Where they may be used is
 * their fetch's.
 */
export const ACL_KEYWORDS: Readonly<Record<string, readonly [string, AclMatchKind]>> = {
  "path_beg": ["path", "beg"],
  "path_end": ["path", "end"],
  "path_sub": ["path", "sub"],
  "path_reg": ["path", "reg"],
  "path_dom": ["path", "dom"],
  "path_dir": ["path", "dir"],
  "path_len": ["path", "len"],
  "url_beg": ["url", "beg"],
  "url_end": ["url", "end"],
  "url_sub": ["url", "sub"],
  "url_reg": ["url", "reg"],
  "url_dom": ["url", "dom"],
  "url_dir": ["url", "dir"],
  "url_len": ["url", "len"],
  "urlp_val": ["url_param", "int"],
  "req.cook_beg": ["req.cook", "beg"],
  "req.cook_end": ["req.cook", "end"],
  "req.cook_sub": ["req.cook", "sub"],
  "req.cook_reg": ["req.cook", "reg"],
  "req.cook_dom": ["req.cook", "dom"],
  "req.cook_dir": ["req.cook", "dir"],
  "req.cook_len": ["req.cook", "len"],
  "cook_beg": ["cook", "beg"],
  "cook_end": ["cook", "end"],
  "cook_sub": ["cook", "sub"],
  "cook_reg": ["cook", "reg"],
  "cook_dom": ["cook", "dom"],
  "cook_dir": ["cook", "dir"],
  "cook_len": ["cook", "len"],
  "hdr_beg": ["hdr", "beg"],
  "hdr_end": ["hdr", "end"],
  "hdr_sub": ["hdr", "sub"],
  "hdr_reg": ["hdr", "reg"],
  "hdr_dom": ["hdr", "dom"],
  "hdr_dir": ["hdr", "dir"],
  "hdr_len": ["hdr", "len"],
  "hdr_val": ["hdr", "int"],
  "hdr_ip": ["hdr", "ip"],
  "req.hdr_val": ["req.hdr", "int"],
  "req.hdr_ip": ["req.hdr", "ip"],
  "res.hdr_val": ["res.hdr", "int"],
  "res.hdr_ip": ["res.hdr", "ip"],
  "shdr_beg": ["shdr", "beg"],
  "shdr_end": ["shdr", "end"],
  "shdr_sub": ["shdr", "sub"],
  "shdr_reg": ["shdr", "reg"],
  "shdr_val": ["shdr", "int"],
  "payload": ["req.payload", "bin"],
  "payload_lv": ["req.payload_lv", "bin"],
};

/**
 * The matching method a fetch gets by default, by SMP_T_* of its samples;
 * binary samples have none (HAProxy: "matching method must be specified
 * first (using '-m')"), except through the `payload` keywords.
 */
const DEFAULT_MATCH: readonly (AclMatchKind | null)[] = ["found", "bool", "int", "str", "ip", null];

/** The default matching method of samples of type `type` (SMP_T_*), null: `-m` is required. */
export function aclDefaultMatch(type: number): AclMatchKind | null {
  return DEFAULT_MATCH[type];
}

/** A fetch and the matching method its keyword implies. */
export interface AclFetchSpec {
  readonly fetch: AclFetch;
  /** Default matching method (`-m` overrides it); null: `-m` is required. */
  readonly match: AclMatchKind | null;
  /** SMP_USE_* bits: where it has its input. */
  readonly use: number;
  /** The row's pattern reader for the default method, if any. */
  readonly pats?: (pats: readonly string[]) => string[] | AclBadPat;
}

/** The row of fetch `name`, or undefined (own rows only: "constructor" is no fetch). */
export function aclFetchDef(name: string): AclFetchDef | undefined {
  return Object.hasOwn(ACL_FETCHES, name) ? ACL_FETCHES[name] : undefined;
}

/** `kw(args)` and what follows it. */
const FETCH_RE = /^([A-Za-z0-9_.-]+)(?:\(([^()]*)\))?(.*)$/s;

/** Splits the text in parentheses into arguments ("" gives none). */
function argsOf(text: string | undefined): string[] {
  return text === undefined || text === "" ? [] : text.split(",");
}

/**
 * Compiles the converters `rest` (`,lower,map(x)`, after the fetch `head`)
 * around `fetch`, or says why they are refused.
 */
function convChain(fetch: AclFetch, head: string, rest: string, where: string): AclFetch | string {
  let f = fetch;
  let text = rest;
  while (text !== "") {
    const m = /^,([A-Za-z0-9_.]+)(\(?)/.exec(text);
    if (m === null) return `unexpected "${text}" after "${head}"`;
    const def = aclConvDef(m[1]);
    if (def === undefined) {
      return `unknown converter "${m[1]}" after "${head}" (supported: ${
        Object.keys(ACL_CONVERTERS).join(", ")
      })`;
    }
    if ((def.takes & (1 << f.type)) === 0) {
      return `converter "${m[1]}" cannot take the ${SMP_T_NAMES[f.type]} samples of "${head}"`;
    }
    let args: string[] = [];
    let end = m[0].length;
    if (m[2] === "(") {
      const r = convArgsRead(text, end);
      if (typeof r === "string") return `converter "${m[1]}": ${r}`;
      args = r.args;
      end = r.end;
    }
    if (def.args === undefined && args.length > 0) return `converter "${m[1]}" takes no argument`;
    const conv = def.compile(text.slice(1, end), args, where);
    if (typeof conv === "string") return conv;
    f = new ConvFetch(`${f.kw}${text.slice(0, end)}`, def.type, convBinInput(def, f), conv);
    text = text.slice(end);
  }
  return f;
}

/**
 * Parses a fetch word (`path_beg`, `hdr(host)`, `hdr(x-a,-1)`,
 * `url_param(id)`, with converters after commas): returns the compiled
 * fetch, its default matching method and where it may be used, or a string
 * saying why the word is refused (unknown fetch, bad or missing argument,
 * unknown converter). `where` (`FILE:LINE`) locates the map files that
 * converters name.
 *
 * @example
 * ```ts
 * import { aclFetchParse } from "./acl_fetch.ts";
 * const spec = aclFetchParse("hdr_beg(host)");
 * // typeof spec !== "string" && spec.match === "beg"
 * ```
 */
export function aclFetchParse(word: string, where = ""): AclFetchSpec | string {
  const m = FETCH_RE.exec(word);
  if (m === null) return `unknown fetch "${word}"`;
  const [, kw, argText, rest] = m;
  const head = word.slice(0, word.length - rest.length);
  if (rest !== "") {
    if (rest.startsWith("(")) return `missing ")" or unexpected "(" in "${word}"`;
    if (!rest.startsWith(",")) return `unknown fetch "${word}"`;
  }
  const alias = Object.hasOwn(ACL_KEYWORDS, kw) ? ACL_KEYWORDS[kw] : undefined;
  const name = alias?.[0] ?? kw;
  const def = aclFetchDef(name);
  if (def === undefined) return `unknown fetch "${kw}"`;
  const args = argsOf(argText);
  if (def.args === undefined && args.length > 0) return `fetch "${name}" takes no argument`;
  let fetch = def.compile(head, args);
  if (typeof fetch === "string") return fetch;
  if (rest !== "") {
    fetch = convChain(fetch, head, rest, where);
    if (typeof fetch === "string") return fetch;
  }
  const spec = { fetch, match: alias?.[1] ?? aclDefaultMatch(fetch.type), use: def.use };
  // A converter changes the samples: patterns are then read as the method reads them.
  return def.pats === undefined || rest !== "" || alias !== undefined
    ? spec
    : { ...spec, pats: def.pats };
}

/** Every fetch and ACL keyword name, for help texts and tests. */
export const ACL_FETCH_KWS: readonly string[] = [
  ...Object.keys(ACL_FETCHES),
  ...Object.keys(ACL_KEYWORDS),
];
