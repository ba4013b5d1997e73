/**
 * HTTP compression: the `compression` keywords as HAProxy 2.6 reads them
 * (lists, defaults, offload, errors with file:line), Accept-Encoding
 * negotiation (q-values, `*`, identity, old agents), the response
 * conditions, and the compressor.
 */
import assert from "node:assert/strict";
import zlib from "node:zlib";
import { cfgParse, parseConfigText } from "../../lib/cfg/cfg_parser.ts";
import { resolveConfig } from "../../lib/cfg/config_check.ts";
import { SluiceError } from "../../lib/core/errors.ts";
import { Compressor, probeCompressor } from "../../lib/http/comp_algo.ts";
import {
  compResponseOk,
  compSelect,
  type CompSettings,
  compSettings,
  etagType,
  parseQvalue,
} from "../../lib/http/comp_negotiate.ts";
import { compRequest } from "../../lib/http/comp_txn.ts";
import { h1ParseHead } from "../../lib/http/h1_parser.ts";
import { H1_MF_RESP, HttpMsg } from "../../lib/http/h1_types.ts";
import { latin1 } from "../helpers/http.ts";

function parse(lines: string[]) {
  return parseConfigText(lines.join("\n"), "t.cfg", {});
}

function rejects(lines: string[], where: string, re: RegExp): void {
  assert.throws(() => parse(lines), (e: unknown) => {
    assert.ok(e instanceof SluiceError);
    const err = (e.errors ?? [e]).find((x) => x.where === where);
    assert.ok(err !== undefined, `an error at ${where}: ${e.message}`);
    assert.match(err.message, re);
    return true;
  });
}

const FE = ["frontend fe", "  mode http", "  bind :80", "  default_backend be"];
const BE = ["backend be", "  mode http", "  server s1 127.0.0.1:9000"];

Deno.test("compression keywords: lists add up, the last named first, defaults inherited", () => {
  const c = parse([
    "defaults",
    "  mode http",
    "  compression algo gzip",
    "  compression type text/html",
    ...FE,
    "  compression algo deflate br",
    "  compression type Text/Plain",
    "  compression offload",
    ...BE,
  ]);
  assert.deepEqual(c.frontends[0].http?.compression, {
    algos: ["br", "deflate", "gzip"],
    types: ["text/plain", "text/html"],
    offload: true,
  });
  // The backend only inherits algos and types (HAProxy: offload is ignored in defaults).
  assert.deepEqual(c.backends[0].http?.compression, { algos: ["gzip"], types: ["text/html"] });
  const r = resolveConfig(c);
  assert.deepEqual(r.frontends[0].http?.compression, {
    algos: ["br", "deflate", "gzip"],
    types: ["text/plain", "text/html"],
    offload: true,
  });
});

Deno.test("compression keywords in a listen section apply to its frontend and backend", () => {
  const c = parse([
    "listen web",
    "  mode http",
    "  bind :80",
    "  compression algo gzip",
    "  compression offload",
    "  server s1 127.0.0.1:9000",
  ]);
  const want = { algos: ["gzip"], offload: true };
  assert.deepEqual(c.frontends[0].http?.compression, want);
  assert.deepEqual(c.backends[0].http?.compression, want);
});

Deno.test("compression keywords: errors and warnings name the line", () => {
  rejects(
    [...FE, "  compression algo lzma", ...BE],
    "t.cfg:5",
    /"lzma".*not a supported algorithm/,
  );
  rejects([...FE, "  compression algo", ...BE], "t.cfg:5", /expects <algorithm>/);
  rejects([...FE, "  compression type", ...BE], "t.cfg:5", /expects <type>/);
  rejects([...FE, "  compression offload now", ...BE], "t.cfg:5", /./);
  rejects([...FE, "  compression", ...BE], "t.cfg:5", /missing value/);
  rejects([...FE, "  compression level 9", ...BE], "t.cfg:5", /compression level/);
  rejects(
    [
      "frontend fe",
      "  mode tcp",
      "  bind :80",
      "  compression algo gzip",
      "  default_backend be",
      ...BE,
    ],
    "t.cfg:4",
    /"compression algo" needs mode http/,
  );
  const parsed = cfgParse([{
    file: "t.cfg",
    text: ["defaults", "  mode http", "  compression offload", ...FE, ...BE].join("\n"),
  }], {});
  assert.deepEqual(parsed.errors, []);
  assert.deepEqual(parsed.warnings.map((w) => w.message), [
    't.cfg:3: warning: "compression offload" is ignored in a defaults section (as HAProxy)',
  ]);
  assert.equal(parsed.config.frontends[0].http?.compression, undefined);
});

Deno.test("compression: the API's settings are checked", () => {
  const c = parse([...FE, ...BE]);
  c.frontends[0].http = { compression: { algos: ["zip" as "gzip"] } };
  assert.throws(() => resolveConfig(c), /frontends\[0\]\.http\.compression\.algos\[0\]/);
});

/** A parsed head of `text` (request, or response when it starts with HTTP/). */
function head(text: string): { msg: HttpMsg; a: Uint8Array } {
  const a = latin1(text);
  const msg = new HttpMsg(64);
  if (text.startsWith("HTTP/")) msg.flags |= H1_MF_RESP;
  const n = h1ParseHead(msg, a, 0, a.length, { maxHead: 65536, maxHdrs: 64, maxBody: 0 });
  assert.ok(n > 0, `parsed: ${text}`);
  return { msg, a };
}

const S = (algos: CompSettings["algos"], types: string[] = []): CompSettings => ({
  algos,
  types,
  offload: false,
});

/** The algorithm a request gets, as the analyser asks (identity fallback and old agents included). */
function select(s: CompSettings, hdrs: string): string | null {
  const { msg, a } = head(`GET / HTTP/1.1\r\nHost: x\r\n${hdrs}\r\n`);
  const rw = { upgrade: false, connection: null, drop: [], add: [] };
  const got = compRequest(s, null, msg, a, 0, rw)?.algo ?? null;
  // Without the agent check and the identity fallback, the negotiation alone agrees.
  if (got !== null && got !== "identity") assert.equal(compSelect(s, msg, a, 0), got);
  return got;
}

Deno.test("Accept-Encoding: q-values, q=0 refusal, *, ties, case, several headers", () => {
  const s = S(["deflate", "gzip"]); // "compression algo gzip deflate"
  assert.equal(select(s, ""), null);
  assert.equal(select(s, "Accept-Encoding: gzip\r\n"), "gzip");
  assert.equal(select(s, "Accept-Encoding: GZip\r\n"), "gzip");
  assert.equal(select(s, "Accept-Encoding: gzip, deflate\r\n"), "gzip");
  assert.equal(select(s, "Accept-Encoding: gzip;q=0.5, deflate;q=0.6\r\n"), "deflate");
  assert.equal(select(s, "Accept-Encoding: gzip ; q=0.5 , deflate ; q=0.6\r\n"), "deflate");
  assert.equal(select(s, "Accept-Encoding: gzip;q=0\r\n"), null);
  assert.equal(select(s, "Accept-Encoding: gzip;q=0.000, br\r\n"), null);
  assert.equal(select(s, "Accept-Encoding: *\r\n"), "deflate");
  assert.equal(select(s, "Accept-Encoding: *;q=0\r\n"), null);
  assert.equal(select(s, "Accept-Encoding: br\r\nAccept-Encoding: deflate;q=0.1\r\n"), "deflate");
  assert.equal(select(S(["raw-deflate"]), "Accept-Encoding: deflate\r\n"), "raw-deflate");
  assert.equal(select(S(["identity", "gzip"]), "Accept-Encoding: identity\r\n"), "identity");
  // Old agents announcing Mozilla/4 get nothing, except MSIE 6 SV1 and MSIE 7+.
  const ae = "Accept-Encoding: gzip\r\n";
  assert.equal(select(s, ae + "User-Agent: Mozilla/4.0 (compatible; foo)\r\n"), null);
  assert.equal(
    select(s, ae + "User-Agent: Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 6.0)\r\n"),
    "gzip",
  );
  assert.equal(
    select(s, ae + "User-Agent: Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1)\r\n"),
    null,
  );
  assert.equal(
    select(s, ae + "User-Agent: Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1; SV1)\r\n"),
    "gzip",
  );
  assert.equal(select(s, ae + "User-Agent: Mozilla/5.0\r\n"), "gzip");
  // identity is the fallback, but not for such agents.
  const si = S(["identity", "gzip"]);
  assert.equal(select(si, "Accept-Encoding: br\r\n"), "identity");
  assert.equal(select(si, "Accept-Encoding: br\r\nUser-Agent: Mozilla/4.0 (compatible)\r\n"), null);
});

Deno.test("qvalues and ETag types as HAProxy parses them", () => {
  assert.equal(parseQvalue("1"), 1000);
  assert.equal(parseQvalue("0.5"), 500);
  assert.equal(parseQvalue("0.125"), 125);
  assert.equal(parseQvalue("0.1256"), 125);
  assert.equal(parseQvalue("0"), 0);
  assert.equal(parseQvalue("2"), 1000);
  assert.equal(parseQvalue("x"), 1000);
  assert.equal(etagType('"a"'), "strong");
  assert.equal(etagType('W/"a"'), "weak");
  assert.equal(etagType("a"), "invalid");
  assert.equal(etagType('"'), "invalid");
});

Deno.test("the backend's algos and types win, offload from either", () => {
  const fe = { algos: ["gzip" as const], types: ["text/"], offload: true };
  const be = { algos: ["br" as const], types: [], offload: false };
  assert.deepEqual(compSettings(fe, be), { algos: ["br"], types: ["text/"], offload: true });
  assert.deepEqual(compSettings(null, be), { algos: ["br"], types: [], offload: false });
  assert.equal(compSettings(null, null), null);
});

Deno.test("response conditions", () => {
  const facts = { http11: true, head: false, status: 200, body: true };
  const ok = (hdrs: string, f: Partial<typeof facts> = {}, types: string[] = []) => {
    const { msg, a } = head(`HTTP/1.1 200 OK\r\n${hdrs}\r\n`);
    return compResponseOk(S(["gzip"], types), { ...facts, ...f }, msg, a, 0);
  };
  assert.deepEqual(ok("Content-Type: text/html\r\n"), { etag: null });
  assert.deepEqual(ok('ETag: "x"\r\n'), { etag: '"x"' });
  for (const st of [201, 202, 203]) assert.notEqual(ok("", { status: st }), null);
  for (const st of [204, 206, 300, 304, 404, 500]) assert.equal(ok("", { status: st }), null);
  assert.equal(ok("", { http11: false }), null);
  assert.equal(ok("", { head: true }), null);
  assert.equal(ok("", { body: false }), null);
  assert.equal(ok("Content-Encoding: gzip\r\n"), null);
  assert.equal(ok("Cache-Control: max-age=3, No-Transform\r\n"), null);
  assert.notEqual(ok("Cache-Control: no-transformer\r\n"), null);
  assert.equal(ok('ETag: "a"\r\nETag: "b"\r\n'), null);
  assert.equal(ok("ETag: a\r\n"), null);
  assert.equal(ok("Content-Type: multipart/form-data\r\n"), null);
  assert.notEqual(ok("Content-Type: Text/HTML; charset=utf-8\r\n", {}, ["text/html"]), null);
  assert.equal(ok("Content-Type: image/png\r\n", {}, ["text/html"]), null);
  assert.equal(ok("", {}, ["text/html"]), null);
});

Deno.test("the compressor's flushed pieces decompress as one stream, every algorithm", () => {
  const text = latin1("hello world, ".repeat(2000));
  for (const algo of ["gzip", "deflate", "raw-deflate", "br", "identity"] as const) {
    assert.equal(probeCompressor(algo), null);
    const c = new Compressor(algo);
    const parts: Uint8Array[] = [];
    for (let i = 0; i < text.length; i += 3000) {
      c.add(text.subarray(i, i + 3000));
      const f = c.flush();
      // A flush gives every byte of what was added so far (streaming).
      if (algo !== "identity") assert.ok(f.length > 0);
      parts.push(f.slice());
    }
    parts.push(c.finish().slice());
    const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of parts) {
      all.set(p, o);
      o += p.length;
    }
    const back = algo === "gzip"
      ? zlib.gunzipSync(all)
      : algo === "deflate"
      ? zlib.inflateSync(all)
      : algo === "raw-deflate"
      ? zlib.inflateRawSync(all)
      : algo === "br"
      ? zlib.brotliDecompressSync(all)
      : all;
    assert.deepEqual(new Uint8Array(back), text, algo);
  }
});
