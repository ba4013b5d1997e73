/**
 * The pure parts of static-file backends: path normalisation (nothing ever
 * names a place outside the root), Range parsing, preconditions, the MIME
 * table, Accept-Encoding and the request head reader.
 */
import assert from "node:assert/strict";
import { staticPath, staticUrlPath } from "../../lib/applet/static_path.ts";
import { MAX_RANGES, parseRange } from "../../lib/applet/static_range.ts";
import { etagOf, evalConditions, httpDate, ifRangeHolds } from "../../lib/applet/static_cond.ts";
import { DEFAULT_TYPE, mimeType } from "../../lib/applet/static_mime.ts";
import { acceptsEncoding, htmlEscape } from "../../lib/applet/static_answer.ts";
import { parseHead } from "../../lib/applet/static_sock.ts";

Deno.test("staticPath: segments decoded once, dot segments resolved, query ignored", () => {
  assert.deepEqual(staticPath("/"), { segments: [], trailingSlash: true });
  assert.deepEqual(staticPath("/a/b.txt?x=1#f"), {
    segments: ["a", "b.txt"],
    trailingSlash: false,
  });
  assert.deepEqual(staticPath("/a//b/./c/"), { segments: ["a", "b", "c"], trailingSlash: true });
  assert.deepEqual(staticPath("/a/../b"), { segments: ["b"], trailingSlash: false });
  assert.deepEqual(staticPath("/a%20b/%C3%A9"), { segments: ["a b", "é"], trailingSlash: false });
  assert.deepEqual(staticPath("/a/."), { segments: ["a"], trailingSlash: true });
  // Encoded dots are dots: resolved like the plain ones.
  assert.deepEqual(staticPath("/a/%2e%2E/b"), { segments: ["b"], trailingSlash: false });
  // Double encoding stays a literal name after one decoding.
  assert.deepEqual(staticPath("/%252e%252e/x"), {
    segments: ["%2e%2e", "x"],
    trailingSlash: false,
  });
});

Deno.test("staticPath: what could leave the root or confuse a file system is refused", () => {
  for (
    const t of [
      "",
      "a/b",
      "*",
      "http://h/x",
      "/..",
      "/../x",
      "/a/../../x",
      "/%2e%2e/x",
      "/%2E%2E%2Fx",
      "/a%2f..%2f..%2fx",
      "/a%5c..%5cx",
      "/a\\..\\x",
      "/a%00.txt",
      "/a%0d%0a",
      "/%",
      "/%2",
      "/%zz",
      "/%c3",
      "/%ff",
    ]
  ) {
    assert.equal(staticPath(t), null, t);
  }
});

Deno.test("staticUrlPath: each segment encoded, directories with a slash", () => {
  assert.equal(staticUrlPath([], true), "/");
  assert.equal(staticUrlPath(["a b", "c?"], true), "/a%20b/c%3F/");
  assert.equal(staticUrlPath(["x"], false), "/x");
});

Deno.test("parseRange: single, open, suffix, several; clipped to the size", () => {
  assert.deepEqual(parseRange("bytes=0-9", 100), [{ start: 0, end: 9 }]);
  assert.deepEqual(parseRange("bytes=90-", 100), [{ start: 90, end: 99 }]);
  assert.deepEqual(parseRange("bytes=-10", 100), [{ start: 90, end: 99 }]);
  assert.deepEqual(parseRange("bytes=-1000", 100), [{ start: 0, end: 99 }]);
  assert.deepEqual(parseRange("bytes=95-1000", 100), [{ start: 95, end: 99 }]);
  assert.deepEqual(parseRange("Bytes = 0-0 , 5-6", 100), [{ start: 0, end: 0 }, {
    start: 5,
    end: 6,
  }]);
  // A range past the end is left out when another one is satisfiable.
  assert.deepEqual(parseRange("bytes=0-1,200-300", 100), [{ start: 0, end: 1 }]);
});

Deno.test("parseRange: unsatisfiable, and headers that are ignored", () => {
  assert.equal(parseRange("bytes=100-", 100), "unsatisfiable");
  assert.equal(parseRange("bytes=-0", 100), "unsatisfiable");
  assert.equal(parseRange("bytes=0-", 0), "unsatisfiable");
  for (const h of ["items=0-1", "bytes=5-1", "bytes=a-b", "bytes=1-2-3", "bytes", "bytes=--1"]) {
    assert.equal(parseRange(h, 100), null, h);
  }
  const many = "bytes=" + Array.from({ length: MAX_RANGES + 1 }, (_, i) => `${i}-${i}`).join(",");
  assert.equal(parseRange(many, 1000), null);
  // Overlaps adding up to more than the file: the whole file instead.
  assert.equal(parseRange("bytes=0-99,0-99", 100), null);
});

Deno.test("preconditions follow RFC 9110 §13.2.2", () => {
  const meta = { size: 12, mtime: Date.UTC(2024, 0, 2, 3, 4, 5, 678) };
  const etag = etagOf(meta);
  assert.match(etag, /^"[0-9a-f]+-c"$/);
  const lm = httpDate(meta.mtime);
  assert.equal(lm, "Tue, 02 Jan 2024 03:04:05 GMT");
  const before = "Mon, 01 Jan 2024 00:00:00 GMT", after = "Wed, 03 Jan 2024 00:00:00 GMT";
  assert.equal(evalConditions({}, meta), 0);
  assert.equal(evalConditions({ ifNoneMatch: etag }, meta), 304);
  assert.equal(evalConditions({ ifNoneMatch: `"x", W/${etag}` }, meta), 304);
  assert.equal(evalConditions({ ifNoneMatch: "*" }, meta), 304);
  assert.equal(evalConditions({ ifNoneMatch: '"other"' }, meta), 0);
  assert.equal(evalConditions({ ifModifiedSince: lm }, meta), 304);
  assert.equal(evalConditions({ ifModifiedSince: after }, meta), 304);
  assert.equal(evalConditions({ ifModifiedSince: before }, meta), 0);
  assert.equal(evalConditions({ ifModifiedSince: "garbage" }, meta), 0);
  // If-None-Match wins over If-Modified-Since.
  assert.equal(evalConditions({ ifNoneMatch: '"other"', ifModifiedSince: after }, meta), 0);
  assert.equal(evalConditions({ ifMatch: etag }, meta), 0);
  assert.equal(evalConditions({ ifMatch: "*" }, meta), 0);
  assert.equal(evalConditions({ ifMatch: '"other"' }, meta), 412);
  // If-Match is a strong comparison: a weak tag never matches.
  assert.equal(evalConditions({ ifMatch: `W/${etag}` }, meta), 412);
  assert.equal(evalConditions({ ifUnmodifiedSince: before }, meta), 412);
  assert.equal(evalConditions({ ifUnmodifiedSince: after }, meta), 0);
  // If-Match wins over If-Unmodified-Since.
  assert.equal(evalConditions({ ifMatch: etag, ifUnmodifiedSince: before }, meta), 0);
  assert.equal(evalConditions({ ifMatch: '"other"', ifNoneMatch: etag }, meta), 412);
  assert.ok(ifRangeHolds({}, meta));
  assert.ok(ifRangeHolds({ ifRange: etag }, meta));
  assert.ok(!ifRangeHolds({ ifRange: '"other"' }, meta));
  assert.ok(!ifRangeHolds({ ifRange: `W/${etag}` }, meta));
  assert.ok(ifRangeHolds({ ifRange: lm }, meta));
  assert.ok(!ifRangeHolds({ ifRange: after }, meta));
});

Deno.test("mimeType: the built-in table, case-insensitive, octet-stream otherwise", () => {
  const want: Record<string, string> = {
    "a.html": "text/html; charset=utf-8",
    "a.CSS": "text/css; charset=utf-8",
    "a.js": "text/javascript; charset=utf-8",
    "a.mjs": "text/javascript; charset=utf-8",
    "a.json": "application/json; charset=utf-8",
    "a.svg": "image/svg+xml; charset=utf-8",
    "a.png": "image/png",
    "a.jpg": "image/jpeg",
    "a.jpeg": "image/jpeg",
    "a.gif": "image/gif",
    "a.webp": "image/webp",
    "a.avif": "image/avif",
    "a.ico": "image/x-icon",
    "a.woff": "font/woff",
    "a.woff2": "font/woff2",
    "a.wasm": "application/wasm",
    "a.txt": "text/plain; charset=utf-8",
    "a.xml": "application/xml; charset=utf-8",
    "a.pdf": "application/pdf",
    "a.mp4": "video/mp4",
    "a.webm": "video/webm",
    "a.tar.gz": DEFAULT_TYPE,
    "README": DEFAULT_TYPE,
    "a.": DEFAULT_TYPE,
  };
  for (const [name, type] of Object.entries(want)) assert.equal(mimeType(name), type, name);
});

Deno.test("acceptsEncoding: tokens, q=0 refuses, * counts", () => {
  assert.ok(acceptsEncoding("gzip, deflate, br", "br"));
  assert.ok(acceptsEncoding("GZIP;q=0.5", "gzip"));
  assert.ok(!acceptsEncoding("gzip;q=0", "gzip"));
  assert.ok(!acceptsEncoding("gzip; q=0.000", "gzip"));
  assert.ok(!acceptsEncoding("deflate", "gzip"));
  assert.ok(acceptsEncoding("*", "br"));
  assert.ok(!acceptsEncoding("*, br;q=0", "br"));
  assert.ok(!acceptsEncoding(undefined, "gzip"));
  assert.ok(!acceptsEncoding("identity", "gzip"));
});

Deno.test("htmlEscape and parseHead", () => {
  assert.equal(htmlEscape(`<a href="x">&'`), "&#60;a href=&#34;x&#34;&#62;&#38;&#39;");
  const req = parseHead(
    new TextEncoder().encode(
      'GET /x?y HTTP/1.1\r\nHost: h\r\nRange: bytes=0-1\r\nif-none-match: "a"\r\nIf-None-Match: "b"\r\nAccept-Encoding: gzip\r\n',
    ),
  );
  assert.deepEqual(req, {
    method: "GET",
    target: "/x?y",
    range: "bytes=0-1",
    ifNoneMatch: '"a", "b"',
    acceptEncoding: "gzip",
  });
});
