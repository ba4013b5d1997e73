/**
 * The converter registry (HAProxy's `sample_conv_kws`): converters written
 * after a fetch, `hdr(host),lower`, turn each sample before the matcher (or
 * a header value template) sees it. The string converters are in
 * conv_str.ts, the map converters in conv_map.ts.
 *
 * A converter compiles to a sample sink placed between the fetch and what
 * follows (`next`, set by the wrapping fetch on each run), so a chain costs
 * one call per sample and converter and allocates nothing per message
 * (except `regsub` and `map`, whose RegExp and Map need a string).
 *
 * @module
 */
import { type AclConv, CastBin } from "./conv_base.ts";
import type { AclCtx, AclFetch, AclSampleSink } from "./acl_types.ts";
import { SMP_T_BIN, SMP_T_BOOL, SMP_T_INT, SMP_T_IP, SMP_T_STR } from "./acl_types.ts";
import {
  convB64DecNew,
  convBase64New,
  convBytesNew,
  convFieldNew,
  convHexNew,
  convJsonNew,
  convLowerNew,
  convRegsubNew,
  convUpperNew,
  convWordNew,
} from "./conv_str.ts";
import { convMapNew, type MapKind } from "./conv_map.ts";

export type { AclConv } from "./conv_base.ts";

/** One row of ACL_CONVERTERS. */
export interface AclConvDef {
  /** Sample types it takes, as bits (`1 << SMP_T_*`). */
  readonly takes: number;
  /** SMP_T_* of what it gives. */
  readonly type: number;
  /** Its arguments in parentheses as docs show them (`NAME[,DEFAULT]`); undefined: none. */
  readonly args?: string;
  /** One line for docs/keywords.md. */
  readonly doc: string;
  /**
   * It works on binary: address and integer samples are first cast to
   * their network bytes (CastBin), as HAProxy casts them.
   */
  readonly bin?: boolean;
  /**
   * Compiles the converter from its arguments, or says why they are wrong.
   * `where` (`FILE:LINE` of the keyword) locates files it names.
   */
  compile(word: string, args: readonly string[], where: string): AclConv | string;
}

/**
 * Every sample type: HAProxy casts addresses, integers and booleans to
 * their text, and strings to binary, before a converter that wants them.
 */
const ANY = (1 << SMP_T_STR) | (1 << SMP_T_BIN) | (1 << SMP_T_IP) | (1 << SMP_T_INT) |
  (1 << SMP_T_BOOL);

const MAP_ARGS = "file[,default]";
const mapDoc = (how: string) =>
  `The value of the key of the map file that ${how}; else the default, or no sample`;
const mapRow = (kind: MapKind, how: string): AclConvDef => ({
  takes: ANY,
  type: SMP_T_STR,
  args: MAP_ARGS,
  doc: mapDoc(how),
  compile: (word, args, where) => convMapNew(kind, word, args, where),
});

/** Every converter, by name. */
export const ACL_CONVERTERS: Record<string, AclConvDef> = {
  "lower": {
    takes: ANY,
    type: SMP_T_STR,
    doc: "ASCII letters to lower case",
    compile: convLowerNew,
  },
  "upper": {
    takes: ANY,
    type: SMP_T_STR,
    doc: "ASCII letters to upper case",
    compile: convUpperNew,
  },
  "hex": {
    takes: ANY,
    bin: true,
    type: SMP_T_STR,
    doc: "Each byte as two upper-case hex digits (an address or integer: its network bytes)",
    compile: convHexNew,
  },
  "base64": {
    takes: ANY,
    bin: true,
    type: SMP_T_STR,
    doc: "Base64 (standard alphabet, padded)",
    compile: convBase64New,
  },
  "b64dec": {
    takes: ANY,
    type: SMP_T_BIN,
    doc: "Decodes base64 (padded); invalid input gives no sample",
    compile: convB64DecNew,
  },
  "bytes": {
    takes: ANY,
    bin: true,
    type: SMP_T_BIN,
    args: "offset[,length]",
    doc: "The bytes from offset (from 0), at most length of them; empty past the end",
    compile: convBytesNew,
  },
  "field": {
    takes: ANY,
    type: SMP_T_STR,
    args: "index,delimiters[,count]",
    doc: "The index-th field (from 1; < 0: from the end) between any of the delimiters, with " +
      "the count - 1 after it (0: all); no sample when there is no such field",
    compile: convFieldNew,
  },
  "word": {
    takes: ANY,
    type: SMP_T_STR,
    args: "index,delimiters[,count]",
    doc: "Like field() but runs of delimiters count as one; empty when there is no such word",
    compile: convWordNew,
  },
  "json": {
    takes: ANY,
    type: SMP_T_STR,
    args: "[ascii]",
    doc: 'Escaped for a JSON string: \\" \\\\ \\/ \\b \\f \\n \\r \\t, other bytes outside ' +
      "0x20-0x7e as \\u00XX",
    compile: convJsonNew,
  },
  "regsub": {
    takes: ANY,
    type: SMP_T_STR,
    args: "regex,subst[,flags]",
    doc: "Replaces the first match of regex (flag g: every match; i: ignore case) by subst, " +
      "where \\1-\\9 are groups",
    compile: convRegsubNew,
  },
  "map": {
    ...mapRow("str", "equals the sample"),
    doc: "Same as map_str()",
  },
  "map_str": mapRow("str", "equals the sample"),
  "map_beg": mapRow("beg", "begins the sample, the longest"),
  "map_dom": mapRow(
    "dom",
    "is a run of whole labels of the sample (delimiters / ? . :), the first",
  ),
  "map_reg": mapRow("reg", "is a regular expression that finds a match in the sample, the first"),
  "map_ip": mapRow("ip", "is the address or network holding the address sample, the longest"),
};

/** The row of converter `name`, or undefined (own rows only). */
export function aclConvDef(name: string): AclConvDef | undefined {
  return Object.hasOwn(ACL_CONVERTERS, name) ? ACL_CONVERTERS[name] : undefined;
}

/** What a backslash followed by these gives in converter arguments (HAProxy's arg.c). */
const ARG_ESC: Record<string, string> = {
  "\\": "\\",
  " ": " ",
  '"': '"',
  "'": "'",
  r: "\r",
  n: "\n",
  t: "\t",
};

/**
 * Reads a converter's arguments from `text` at `i` (just after its `(`),
 * as HAProxy's make_arg_list(): commas separate them and `)` ends them
 * outside a second level of quotes (`'...'` literal, `"..."`); outside
 * single quotes a backslash escapes `\`, space and quotes and makes `\r`
 * `\n` `\t`, and before anything else stays a backslash (so `\1` reaches
 * regsub). Returns the arguments and the index after the `)`, or why they
 * are not well formed.
 */
export function convArgsRead(
  text: string,
  i: number,
): { args: string[]; end: number } | string {
  const args: string[] = [];
  let cur = "";
  let sq = false, dq = false;
  for (; i < text.length; i++) {
    const c = text[i];
    if (c === '"' && !sq) dq = !dq;
    else if (c === "'" && !dq) sq = !sq;
    else if (c === "\\" && !sq && i + 1 < text.length && Object.hasOwn(ARG_ESC, text[i + 1])) {
      cur += ARG_ESC[text[++i]];
    } else if (!sq && !dq && c === ",") {
      args.push(cur);
      cur = "";
    } else if (!sq && !dq && c === ")") {
      args.push(cur);
      return { args: args.length === 1 && args[0] === "" ? [] : args, end: i + 1 };
    } else cur += c;
  }
  return sq || dq ? "unclosed quote in the arguments" : 'missing ")"';
}

/**
 * `inner` ready for a converter of binary (`def.bin`): an address or
 * integer fetch gets HAProxy's cast to network bytes in front of it.
 */
export function convBinInput(def: AclConvDef, inner: AclFetch): AclFetch {
  if (def.bin !== true || (inner.type !== SMP_T_IP && inner.type !== SMP_T_INT)) return inner;
  return new ConvFetch(inner.kw, SMP_T_BIN, inner, new CastBin(inner.type === SMP_T_IP));
}

/** A fetch followed by a converter: the converter's output is the sample. */
export class ConvFetch implements AclFetch {
  constructor(
    readonly kw: string,
    readonly type: number,
    readonly inner: AclFetch,
    readonly conv: AclConv,
  ) {}

  exec(ctx: AclCtx, m: AclSampleSink): boolean {
    this.conv.next = m;
    return this.inner.exec(ctx, this.conv);
  }

  /**
   * Where a sample is taken, the converters apply to the inner fetch's
   * sample form (`%[http_auth_group(L),lower]` lowers the user's name, as
   * HAProxy). The converter chain is shared: exec() points it at its sink.
   */
  get sample(): AclFetch | undefined {
    const s = this.inner.sample;
    return s === undefined ? undefined : new ConvFetch(this.kw, this.type, s, this.conv);
  }
}
