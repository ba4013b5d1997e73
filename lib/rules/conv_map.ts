/**
 * The map converters (HAProxy's map.c): `map(file[,default])` (= `map_str`),
 * `map_str`, `map_beg`, `map_dom`, `map_reg` and `map_ip` look the sample
 * up in a map file loaded once, when the configuration is, and give the
 * value of the matching key (or the default, or no sample).
 *
 * The file: one `key value` per line; leading blanks are skipped, empty
 * lines and lines starting with `#` ignored; the key is the first run of
 * non-blank characters, the value the rest of the line after the blanks
 * that follow it, without trailing blanks. How a key matches follows
 * HAProxy's indexes: `str` exact (a tree), `beg` the longest key that
 * begins the sample (a prefix tree), `ip` the longest network that holds
 * the address (a tree), `dom` and `reg` the first key in file order that
 * matches (a list).
 *
 * @module
 */
import { dirname, isAbsolute, join } from "node:path";
import { errMsg } from "../core/errors.ts";
import { aclMatcherNew } from "./acl_match.ts";
import { type IpNet, ipNetParse, ipParse } from "./acl_ip.ts";
import type { AclMatcher } from "./acl_types.ts";
import { BytesConv } from "./conv_base.ts";

/** The biggest map file read (bounded, like everything loaded). */
export const MAP_MAX_BYTES = 64 * 1024 * 1024;

/** How a map's keys match: the part after `map_`. */
export type MapKind = "str" | "beg" | "dom" | "reg" | "ip";

/** One `key value` line of a map file. */
interface MapEntry {
  readonly key: string;
  readonly value: Uint8Array;
  /** Its line in the map file, for messages. */
  readonly line: number;
}

/**
 * Reads the entries of map text `text`. Keys and values are the file's
 * bytes read as Latin-1, so that they compare byte for byte with samples.
 */
export function mapParse(text: string): MapEntry[] {
  const out: MapEntry[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i].replace(/^[ \t]+/, "").replace(/[ \t\r]+$/, "");
    if (l === "" || l.startsWith("#")) continue;
    const m = /^([^ \t]+)(?:[ \t]+(.*))?$/s.exec(l)!;
    out.push({ key: m[1], value: latin1Bytes(m[2] ?? ""), line: i + 1 });
  }
  return out;
}

function latin1Bytes(s: string): Uint8Array {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i) & 255;
  return b;
}

/**
 * A map file's path: relative names are relative to the configuration
 * file's directory, taken from `where` (`FILE:LINE`); without a file, to
 * the current directory.
 */
function mapPath(file: string, where: string): string {
  if (isAbsolute(file)) return file;
  const m = /^(.*):[0-9]+$/s.exec(where);
  return m === null ? file : join(dirname(m[1]), file);
}

/** Reads a map file as Latin-1 text, or says why not. */
function mapRead(path: string): string | { err: string } {
  try {
    const st = Deno.statSync(path);
    if (!st.isFile) return { err: "not a regular file" };
    if (st.size > MAP_MAX_BYTES) return { err: `larger than ${MAP_MAX_BYTES} bytes` };
    const b = Deno.readFileSync(path);
    let s = "";
    for (let i = 0; i < b.length; i += 4096) {
      s += String.fromCharCode(...b.subarray(i, Math.min(b.length, i + 4096)));
    }
    return s;
  } catch (err) {
    return { err: `cannot read it: ${errMsg(err)}` };
  }
}

/** Looks a sample up; hands the value (or the default) to `next`. */
abstract class MapConv extends BytesConv {
  constructor(readonly def: Uint8Array | null) {
    super();
  }

  /** The value of the key the sample matches, or null. */
  abstract find(a: Uint8Array, pos: number, len: number): Uint8Array | null;

  conv(a: Uint8Array, pos: number, len: number): boolean {
    const v = this.find(a, pos, len) ?? this.def;
    return v === null ? false : this.next.matchBytes(v, 0, v.length);
  }
}

/** `map_str`: exact keys; the first line wins for a key given twice. */
class MapStr extends MapConv {
  readonly keys = new Map<string, Uint8Array>();

  find(a: Uint8Array, pos: number, len: number): Uint8Array | null {
    let s = "";
    for (let i = 0; i < len; i++) s += String.fromCharCode(a[pos + i]);
    return this.keys.get(s) ?? null;
  }
}

/** `map_beg`: the longest key that begins the sample. */
class MapBeg extends MapConv {
  /** Entries, longest key first (stable: file order among equal lengths). */
  readonly entries: { key: Uint8Array; value: Uint8Array }[] = [];

  find(a: Uint8Array, pos: number, len: number): Uint8Array | null {
    outer: for (const e of this.entries) {
      const k = e.key;
      if (k.length > len) continue;
      for (let i = 0; i < k.length; i++) if (a[pos + i] !== k[i]) continue outer;
      return e.value;
    }
    return null;
  }
}

/** `map_dom`, `map_reg`: the first key, in file order, whose matcher accepts the sample. */
class MapList extends MapConv {
  readonly entries: { m: AclMatcher; value: Uint8Array }[] = [];

  find(a: Uint8Array, pos: number, len: number): Uint8Array | null {
    for (const e of this.entries) if (e.m.matchBytes(a, pos, len)) return e.value;
    return null;
  }
}

/** `map_ip`: the longest network that holds the address (IPv4 keys also hold mapped IPv6). */
class MapIp extends MapConv {
  /** Networks, longest prefix first (stable: file order among equal prefixes). */
  readonly entries: { net: IpNet; value: Uint8Array }[] = [];
  readonly #w = new Uint32Array(4);

  find(a: Uint8Array, pos: number, len: number): Uint8Array | null {
    const kind = ipParse(a, pos, len, this.#w);
    if (kind === 0) return null;
    for (const e of this.entries) if (e.net.has(kind, this.#w)) return e.value;
    return null;
  }
}

/**
 * Compiles `map_KIND(file[,default])`: loads and checks the file now.
 * Errors name the map file and its line (the caller adds the keyword's
 * `file:line`).
 */
export function convMapNew(
  kind: MapKind,
  word: string,
  args: readonly string[],
  where: string,
): BytesConv | string {
  if (args.length < 1 || args.length > 2 || args[0] === "") {
    return `"${word}" expects a map file and an optional default value`;
  }
  const path = mapPath(args[0], where);
  const text = mapRead(path);
  if (typeof text !== "string") return `"${word}": map file "${path}": ${text.err}`;
  const def = args.length === 2 ? latin1Bytes(args[1]) : null;
  const entries = mapParse(text);
  const at = (e: MapEntry) => `"${word}": map file "${path}" line ${e.line}`;
  switch (kind) {
    case "str": {
      const c = new MapStr(def);
      for (const e of entries) if (!c.keys.has(e.key)) c.keys.set(e.key, e.value);
      return c;
    }
    case "beg": {
      const c = new MapBeg(def);
      for (const e of entries) c.entries.push({ key: latin1Bytes(e.key), value: e.value });
      c.entries.sort((x, y) => y.key.length - x.key.length);
      return c;
    }
    case "ip": {
      const c = new MapIp(def);
      for (const e of entries) {
        const net = ipNetParse(e.key);
        if (typeof net === "string") return `${at(e)}: bad key "${e.key}": ${net}`;
        c.entries.push({ net, value: e.value });
      }
      // An IPv4 network's prefix counts from bit 96 of the mapped IPv6 space.
      const len = (n: IpNet) => n.v4 ? n.prefix + 96 : n.prefix;
      c.entries.sort((x, y) => len(y.net) - len(x.net));
      return c;
    }
    case "dom":
    case "reg": {
      const c = new MapList(def);
      for (const e of entries) {
        const m = aclMatcherNew(kind, [e.key], { icase: false });
        if ("why" in m) return `${at(e)}: bad key "${e.key}": ${m.why}`;
        c.entries.push({ m, value: e.value });
      }
      return c;
    }
  }
}
