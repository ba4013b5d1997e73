/**
 * The listener TLS options of `bind ... ssl` lines beyond certificates and
 * versions: `ca-file`, `verify`, `crl-file`, `ca-ignore-err`,
 * `crt-ignore-err`, `alpn`, `strict-sni`, `crt-list`; and `curves`, refused
 * because Deno's TLS ignores `ecdhCurve` (measured on Deno 2.9.6: an
 * unknown curve name is accepted, the usual groups are negotiated).
 *
 * @module
 */
import type { CfgAt } from "./cfg_at.ts";
import type { BindTlsConfig } from "./config_types.ts";

/** What these options set on a line, read into the API's BindTlsConfig fields. */
export type CfgBindTls = Pick<
  BindTlsConfig,
  "verify" | "ca" | "crl" | "caIgnoreErr" | "crtIgnoreErr" | "alpn" | "strictSni"
>;

/** `all` or comma-separated X509_V_ERR numbers (HAProxy takes numbers; names came in 2.8). */
function ignoreList(at: CfgAt, v: string): "all" | number[] {
  if (v === "all") return "all";
  return v.split(",").map((x) => {
    if (!/^[1-9][0-9]{0,2}$/.test(x)) throw at.badValue(v, 'expected "all" or error numbers');
    return Number(x);
  });
}

/**
 * Reads the option at `args[i]` of a `bind` line into `o` (files read now);
 * returns the index after it, or -1 when it is not one of these.
 */
export function cfgBindTlsOption(at: CfgAt, args: string[], i: number, o: CfgBindTls): number {
  const name = args[i];
  const sub = at.sub(`bind ${name}`);
  switch (name) {
    case "verify":
      o.verify = sub.oneOf(sub.value(args, i + 1), ["none", "optional", "required"] as const);
      return i + 2;
    case "ca-file":
      o.ca = sub.readPem(at.tlsPath(sub.value(args, i + 1), "ca"));
      return i + 2;
    case "crl-file":
      o.crl = sub.readPem(at.tlsPath(sub.value(args, i + 1), "ca"));
      return i + 2;
    case "ca-ignore-err":
      o.caIgnoreErr = ignoreList(sub, sub.value(args, i + 1));
      return i + 2;
    case "crt-ignore-err":
      o.crtIgnoreErr = ignoreList(sub, sub.value(args, i + 1));
      return i + 2;
    case "alpn": {
      const v = sub.value(args, i + 1);
      const list = v.split(",");
      const h = list.find((p) => /^(h2|h2c|h3|hq-interop)$/.test(p));
      if (h !== undefined) {
        throw sub.fail(
          `"alpn ${v}": ${h} is not supported yet (sluice serves HTTP/1.x only, no HTTP/2 or ` +
            'HTTP/3): use "alpn http/1.1"',
        );
      }
      if (list.some((p) => p === "" || p.length > 255)) {
        throw sub.badValue(v, "empty protocol name");
      }
      o.alpn = list;
      return i + 2;
    }
    case "strict-sni":
      o.strictSni = true;
      return i + 1;
    case "curves":
    case "ecdhe":
      throw sub.fail(
        `"${name}" cannot be honoured: sluice's TLS (Deno's rustls) ignores the curve choice ` +
          "and negotiates X25519, P-256 or P-384 as the client prefers; remove it",
      );
  }
  return -1;
}

/** One certificate line of a `crt-list` file: the file, its SNI filters and the line number. */
export interface CfgCrtListEntry {
  crt: string;
  filters: string[];
  line: number;
}

/**
 * Reads a `crt-list FILE`: lines `CRTFILE [SNI filters...]` (`#` comments
 * and empty lines skipped). Per-line options (`[...]`) are refused naming
 * the list's line: sluice applies the options of the bind line to every
 * certificate.
 */
export function cfgCrtList(at: CfgAt, file: string): CfgCrtListEntry[] {
  const text = new TextDecoder().decode(at.readFile(file));
  const out: CfgCrtListEntry[] = [];
  text.split("\n").forEach((line, n) => {
    const t = line.trim();
    if (t === "" || t.startsWith("#")) return;
    const where = `${file}:${n + 1}`;
    if (t.includes("[")) {
      throw at.badValue(
        file,
        `${where}: per-certificate options ("[...]") are not supported; put the options on the ` +
          "bind line (they then apply to every certificate)",
      );
    }
    const [crt, ...filters] = t.split(/\s+/);
    for (const f of filters) {
      if (!/^!?(\*|(\*\.)?[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*)$/.test(f)) {
        throw at.badValue(file, `${where}: bad SNI filter "${f}"`);
      }
    }
    out.push({ crt, filters, line: n + 1 });
  });
  if (out.length === 0) throw at.badValue(file, "no certificate in the list");
  return out;
}
