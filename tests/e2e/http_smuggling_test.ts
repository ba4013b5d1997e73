/**
 * Request smuggling, end to end: every shape of ambiguous framing a client
 * (or a server) can send is refused with the status the strict parser gives,
 * the connection is closed after it, the access log shows the proxy-side
 * termination state, and the upstream never sees a second, smuggled request.
 *
 * The upstream is a lenient model origin (tests/helpers/http.ts): it frames
 * requests the way a forgiving server would (bare LF accepted, chunked before
 * Content-Length), so anything the proxy let through that such a server
 * could read as a second request shows up in its count.
 */
import assert from "node:assert/strict";
import { waitFor, writeAll } from "../helpers/net.ts";
import {
  exchange,
  exchangeOn,
  type FirstConnUpstream,
  firstConnUpstream,
  httpProxy,
  latin1,
  modelUpstream,
  responseStatusLines,
} from "../helpers/http.ts";

/** The request a desynchronised server would find after the real one. */
const SMUGGLED = "GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n";

/** `POST /` with Host, the given header lines (each ending in CRLF), then `body`. */
function post(fields: string, body: string): string {
  return `POST / HTTP/1.1\r\nHost: a\r\n${fields}\r\n${body}`;
}

/** A chunked body whose single chunk carries `data`. */
function chunked(data: string): string {
  return `${data.length.toString(16)}\r\n${data}\r\n0\r\n\r\n`;
}

/** Predicate: `count` complete Content-Length responses are in the text. */
function responses(count: number): (t: string) => boolean {
  return (t) => {
    let pos = 0;
    for (let i = 0; i < count; i++) {
      const he = t.indexOf("\r\n\r\n", pos);
      if (he < 0) return false;
      const cl = /content-length: *(\d+)/i.exec(t.slice(pos, he));
      pos = he + 4 + (cl ? Number(cl[1]) : 0);
      if (pos > t.length) return false;
    }
    return true;
  };
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

/** What a rejected request must produce. */
interface Rejection {
  /** Status the client gets. */
  status: number;
  /** Termination state in the log (default "PR--": refused by the proxy while reading the request). */
  term?: string;
  /** Request line in the log (default "<BADREQ>": the head never parsed). */
  logLine?: string;
  /**
   * Request heads the upstream may see (default 0). A body error is found
   * after the valid head was forwarded, so the legitimate head may be there
   * (never a second one).
   */
  maxRequests?: number;
}

/**
 * Sends `req` (latin-1) on a fresh connection and checks the three promises:
 * (a) exactly one response, with `want.status`, and the connection closed
 * after it; (b) no smuggled request at the upstream; (c) one log line with
 * the termination state.
 */
async function assertRejected(req: string, want: Rejection): Promise<void> {
  await using up = modelUpstream();
  await using px = await httpProxy([up.address]);
  const r = await exchange(px.port, req);
  // (a) The error, alone, then the end of the connection.
  assert.deepEqual(
    responseStatusLines(r.text).map((l) => l.slice(0, 12)),
    [`HTTP/1.1 ${want.status}`],
    `exactly one ${want.status} response, got: ${JSON.stringify(r.text.slice(0, 200))}`,
  );
  assert.match(r.text, /\r\nconnection: close\r\n/i, "the error announces the close");
  assert.ok(r.closed, "the proxy closes the connection after the error");
  assert.ok(!r.text.includes("/smuggled"), "nothing of the smuggled request came back");
  // (c) One log line: the error, with the termination state.
  await waitFor(() => px.logs.length > 0, 2000, "the log line");
  const maxReq = want.maxRequests ?? 0;
  const server = maxReq === 0 ? "<NOSRV>" : "(?:<NOSRV>|s1)";
  assert.match(
    px.logs[0],
    new RegExp(
      ` fe be/${server} \\S+ ${want.status} \\d+ - - ${escapeRe(want.term ?? "PR--")} ` +
        `[\\d/]+ \\d+/\\d+ ${escapeRe(JSON.stringify(want.logLine ?? "<BADREQ>"))}$`,
    ),
  );
  // (b) Let everything settle, then look at what reached the upstream.
  await px.close();
  await up.close();
  assert.equal(px.logs.length, 1, `one log line, got ${px.logs.join("\n")}`);
  const seen = up.requests.map((q) => q.line);
  assert.ok(seen.length <= maxReq, `the upstream saw ${JSON.stringify(seen)}`);
  assert.ok(!up.raw().includes("smuggled"), `smuggled bytes reached the upstream: ${up.raw()}`);
  if (maxReq === 0) {
    assert.equal(up.raw(), "", "nothing reached the upstream");
    assert.equal(up.accepted, 0, "no server connection was even opened");
  }
  for (const q of up.requests) assert.ok(!q.complete, "a refused body never completes upstream");
}

/** A body error: the head was fine and may have been forwarded, the body is refused. */
function bodyRejection(logLine: string, status = 400): Rejection {
  return { status, term: "PD--", logLine, maxRequests: 1 };
}

// -- CL.TE and TE.CL --------------------------------------------------------

Deno.test("CL.TE: Content-Length then Transfer-Encoding: chunked is refused with 400", async () => {
  const body = "0\r\n\r\n" + SMUGGLED;
  await assertRejected(
    post(`Content-Length: ${body.length}\r\nTransfer-Encoding: chunked\r\n`, body),
    { status: 400 },
  );
});

Deno.test("TE.CL: Transfer-Encoding: chunked then Content-Length is refused with 400", async () => {
  const size = `${SMUGGLED.length.toString(16)}\r\n`;
  await assertRejected(
    post(`Transfer-Encoding: chunked\r\nContent-Length: ${size.length}\r\n`, chunked(SMUGGLED)),
    { status: 400 },
  );
});

Deno.test("CL.TE with Content-Length: 0 is refused with 400", async () => {
  await assertRejected(
    post("Content-Length: 0\r\nTransfer-Encoding: chunked\r\n", chunked(SMUGGLED)),
    { status: 400 },
  );
});

Deno.test("CL.TE in an HTTP/1.0 request is refused with 400", async () => {
  const body = "0\r\n\r\n" + SMUGGLED;
  await assertRejected(
    `POST / HTTP/1.0\r\nContent-Length: ${body.length}\r\nTransfer-Encoding: chunked\r\n\r\n${body}`,
    { status: 400 },
  );
});

Deno.test("Transfer-Encoding in an HTTP/1.0 request is refused with 400", async () => {
  await assertRejected(
    `POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n${chunked("abc")}${SMUGGLED}`,
    { status: 400 },
  );
});

// -- TE.TE: obfuscated Transfer-Encoding next to a Content-Length ------------

/**
 * TE.TE shapes: Content-Length frames the body "0\r\n\r\n" + smuggled
 * request; one server honouring the (obfuscated) Transfer-Encoding and the
 * other the Content-Length would desynchronise.
 */
const TE_TE: [string, string, number][] = [
  ['"Transfer-Encoding: xchunked"', "Transfer-Encoding: xchunked\r\n", 501],
  [
    '"Transfer-Encoding: chunked" then "Transfer-Encoding: xchunked"',
    "Transfer-Encoding: chunked\r\nTransfer-Encoding: xchunked\r\n",
    400,
  ],
  [
    '"Transfer-Encoding: xchunked" then "Transfer-Encoding: chunked"',
    "Transfer-Encoding: xchunked\r\nTransfer-Encoding: chunked\r\n",
    501,
  ],
  ['"Transfer-Encoding: chunked, identity"', "Transfer-Encoding: chunked, identity\r\n", 400],
  ['"Transfer-Encoding: identity"', "Transfer-Encoding: identity\r\n", 501],
  ['"Transfer-Encoding:  chunked" (two spaces)', "Transfer-Encoding:  chunked\r\n", 400],
  ['"Transfer-Encoding:\\tchunked" (tab)', "Transfer-Encoding:\tchunked\r\n", 400],
  ['"Transfer-Encoding: \\t chunked" (space tab space)', "Transfer-Encoding: \t chunked\r\n", 400],
  [
    '"Transfer-Encoding: chunked \\t" (trailing whitespace)',
    "Transfer-Encoding: chunked \t\r\n",
    400,
  ],
  [
    '"Transfer-Encoding : chunked" (space before the colon)',
    "Transfer-Encoding : chunked\r\n",
    400,
  ],
  [
    '"Transfer-Encoding\\t: chunked" (tab before the colon)',
    "Transfer-Encoding\t: chunked\r\n",
    400,
  ],
  [
    '" Transfer-Encoding: chunked" (leading space: a folded line)',
    " Transfer-Encoding: chunked\r\n",
    400,
  ],
  [
    "Transfer-Encoding: chunked twice",
    "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
    400,
  ],
  ['"Transfer-encoding: chunked" (name case)', "Transfer-encoding: chunked\r\n", 400],
  ['"TRANSFER-ENCODING: CHUNKED" (upper case)', "TRANSFER-ENCODING: CHUNKED\r\n", 400],
  [
    "Transfer-Encoding in an obs-fold continuation line",
    "X-Pad: 1\r\n Transfer-Encoding: chunked\r\n",
    400,
  ],
  ['"Transfer-Encoding:" with chunked on a folded line', "Transfer-Encoding:\r\n chunked\r\n", 400],
  [
    '"Transfer-Encoding: chunked, gzip" (a coding after chunked)',
    "Transfer-Encoding: chunked, gzip\r\n",
    400,
  ],
  ['"Transfer-Encoding: chunked gzip" (no comma)', "Transfer-Encoding: chunked gzip\r\n", 400],
  ['"Transfer-Encoding: gzip" (no chunked at all)', "Transfer-Encoding: gzip\r\n", 400],
  ['"Transfer-Encoding: "chunked"" (quoted)', 'Transfer-Encoding: "chunked"\r\n', 400],
  ['"Transfer-Encoding: chunked;q=1" (a parameter)', "Transfer-Encoding: chunked;q=1\r\n", 400],
  ['"Transfer-Encoding: ,chunked" (empty list element)', "Transfer-Encoding: ,chunked\r\n", 400],
  ['"Transfer-Encoding:" (empty)', "Transfer-Encoding:\r\n", 400],
  [
    '"Transfer-Encoding: chunk\\xd0\\xb5d" (Cyrillic e)',
    "Transfer-Encoding: chunk\xd0\xb5d\r\n",
    400,
  ],
  ['"Transfer-Encoding: chunked\\x0b" (vertical tab)', "Transfer-Encoding: chunked\x0b\r\n", 400],
  ['"Transfer-Encoding: \\x0cchunked" (form feed)', "Transfer-Encoding: \x0cchunked\r\n", 400],
];

for (const [name, te, status] of TE_TE) {
  Deno.test(`TE.TE: ${name} with Content-Length is refused with ${status}`, async () => {
    const body = "0\r\n\r\n" + SMUGGLED;
    await assertRejected(post(`Content-Length: ${body.length}\r\n${te}`, body), { status });
  });
}

/** Obfuscated Transfer-Encoding alone: the proxy must not guess a framing. */
const TE_ALONE: [string, string, number][] = [
  [
    "Transfer-Encoding: chunked twice",
    "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
    400,
  ],
  ['"Transfer-Encoding: chunked, chunked"', "Transfer-Encoding: chunked, chunked\r\n", 400],
  ['"Transfer-Encoding: chunked, identity"', "Transfer-Encoding: chunked, identity\r\n", 400],
  ['"Transfer-Encoding: gzip" (no final chunked)', "Transfer-Encoding: gzip\r\n", 400],
  ['"Transfer-Encoding: xchunked"', "Transfer-Encoding: xchunked\r\n", 501],
  [
    '"Transfer-Encoding : chunked" (space before the colon)',
    "Transfer-Encoding : chunked\r\n",
    400,
  ],
];

for (const [name, te, status] of TE_ALONE) {
  Deno.test(`TE.TE: ${name} without Content-Length is refused with ${status}`, async () => {
    await assertRejected(post(te, chunked(SMUGGLED)), { status });
  });
}

/** Legal optional whitespace around "chunked": framed as chunked, one request upstream. */
const TE_OWS: [string, string][] = [
  ["two spaces", "Transfer-Encoding:  chunked\r\n"],
  ["a tab", "Transfer-Encoding:\tchunked\r\n"],
  ["trailing whitespace", "Transfer-Encoding: chunked \t\r\n"],
];

for (const [name, te] of TE_OWS) {
  Deno.test(`Transfer-Encoding: chunked with ${name} (legal OWS) is framed as chunked, one request upstream`, async () => {
    await using up = modelUpstream();
    await using px = await httpProxy([up.address]);
    const r = await exchange(px.port, post(`${te}Connection: close\r\n`, chunked(SMUGGLED)));
    assert.match(r.text, /^HTTP\/1\.1 200 OK\r\n/);
    assert.ok(r.text.endsWith("\r\n\r\n/"), r.text);
    assert.equal(responseStatusLines(r.text).length, 1);
    assert.ok(r.closed);
    await px.close();
    await up.close();
    assert.deepEqual(up.requests.map((q) => q.line), ["POST / HTTP/1.1"]);
    assert.equal(up.requests[0].body, SMUGGLED, "the request-like text stayed body");
    assert.ok(up.requests[0].complete);
  });
}

// -- Content-Length ----------------------------------------------------------

Deno.test("Content-Length twice with different values is refused with 400", async () => {
  await assertRejected(
    post(`Content-Length: 0\r\nContent-Length: ${SMUGGLED.length}\r\n`, SMUGGLED),
    { status: 400 },
  );
  await assertRejected(
    post(`Content-Length: ${SMUGGLED.length}\r\nContent-Length: 0\r\n`, SMUGGLED),
    { status: 400 },
  );
});

/** Content-Length values a lenient parser might read as a number (often a different one). */
const BAD_CL: [string, string][] = [
  ["a plus sign", `+${SMUGGLED.length}`],
  ["a minus sign", "-1"],
  ["a space inside", "1 0"],
  ["a comma list of equal values", `${SMUGGLED.length}, ${SMUGGLED.length}`],
  ["a comma list of different values", `0, ${SMUGGLED.length}`],
  ["a trailing letter", "0a"],
  ["hexadecimal", "0x0"],
  ["a decimal point", "0.0"],
  ["an exponent", "1e1"],
  ["an empty value", ""],
  ["a NUL", "0\x00"],
  ["twenty digits (overflow)", "99999999999999999999"],
  ["2^64 + 5 (wraps to 5 in 64 bits)", "18446744073709551621"],
  ["2^53 + 1 (not a safe integer)", "9007199254740993"],
];

for (const [name, value] of BAD_CL) {
  Deno.test(`Content-Length with ${name} is refused with 400`, async () => {
    await assertRejected(post(`Content-Length: ${value}\r\n`, SMUGGLED), { status: 400 });
  });
}

Deno.test('"Content-Length : N" (space before the colon) is refused with 400', async () => {
  await assertRejected(post(`Content-Length : ${SMUGGLED.length}\r\n`, SMUGGLED), {
    status: 400,
  });
});

Deno.test("Content-Length continued on an obs-fold line is refused with 400", async () => {
  await assertRejected(post("Content-Length: 0\r\n 0\r\n", SMUGGLED), { status: 400 });
});

// -- chunk sizes and chunk framing ---------------------------------------------

const CHUNK_HEAD = "POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";

/** Malformed chunked bodies, each followed by a request a desynchronised server would run. */
const BAD_CHUNKS: [string, string][] = [
  ["a negative chunk size", `-5\r\nhello\r\n0\r\n\r\n${SMUGGLED}`],
  ['a "0x" prefixed chunk size', `0x5\r\nhello\r\n0\r\n\r\n${SMUGGLED}`],
  ["an overflowing chunk size (17 hex digits)", `fffffffffffffffff\r\n${SMUGGLED}`],
  ["a chunk size that wraps to 5 in 64 bits", `10000000000000005\r\nhello\r\n0\r\n\r\n${SMUGGLED}`],
  ["a chunk size with a leading space", ` 5\r\nhello\r\n0\r\n\r\n${SMUGGLED}`],
  ["an empty chunk size line", `\r\nhello\r\n0\r\n\r\n${SMUGGLED}`],
  ["no CRLF after the chunk data", `5\r\nhello0\r\n\r\n${SMUGGLED}`],
  ["chunk data longer than its size", `3\r\nhello\r\n0\r\n\r\n${SMUGGLED}`],
  ["a bare LF after the chunk size", `5\nhello\r\n0\r\n\r\n${SMUGGLED}`],
  ["a bare LF after the chunk data", `5\r\nhello\n0\r\n\r\n${SMUGGLED}`],
  ["a bare CR in the chunk size line", `5\rhello\r\n0\r\n\r\n${SMUGGLED}`],
  ["a control character in a chunk extension", `5;a\x01\r\nhello\r\n0\r\n\r\n${SMUGGLED}`],
  ["a bare LF ending the last chunk", `0\n\r\n${SMUGGLED}`],
  ["a bare LF ending the trailers", `0\r\nX-T: 1\n\r\n${SMUGGLED}`],
  ["an obs-fold trailer line", `0\r\nX-T: 1\r\n ${SMUGGLED}`],
];

for (const [name, body] of BAD_CHUNKS) {
  Deno.test(`chunked body with ${name} is refused with 400`, async () => {
    await assertRejected(CHUNK_HEAD + body, bodyRejection("POST /c HTTP/1.1"));
  });
}

// -- NUL and other control characters ------------------------------------------

const CTLS: [string, string][] = [
  ["a NUL in a header name", `GET / HTTP/1.1\r\nHost: a\r\nX\x00Y: 1\r\n\r\n${SMUGGLED}`],
  ["a NUL in a header value", `GET / HTTP/1.1\r\nHost: a\r\nX: a\x00b\r\n\r\n${SMUGGLED}`],
  ["a NUL in the request target", `GET /a\x00b HTTP/1.1\r\nHost: a\r\n\r\n${SMUGGLED}`],
  ["a NUL in the method", `G\x00ET / HTTP/1.1\r\nHost: a\r\n\r\n${SMUGGLED}`],
  ["a NUL before the request line", `\x00GET / HTTP/1.1\r\nHost: a\r\n\r\n${SMUGGLED}`],
  ["a NUL after the version", `GET / HTTP/1.1\x00\r\nHost: a\r\n\r\n${SMUGGLED}`],
  ["a \\x01 in a header value", `GET / HTTP/1.1\r\nHost: a\r\nX: a\x01b\r\n\r\n${SMUGGLED}`],
  ["a \\x01 in a header name", `GET / HTTP/1.1\r\nHost: a\r\nX\x01Y: 1\r\n\r\n${SMUGGLED}`],
  ["a DEL in a header value", `GET / HTTP/1.1\r\nHost: a\r\nX: a\x7fb\r\n\r\n${SMUGGLED}`],
  ["a vertical tab in a header value", `GET / HTTP/1.1\r\nHost: a\r\nX: a\x0bb\r\n\r\n${SMUGGLED}`],
  ["a form feed in a header value", `GET / HTTP/1.1\r\nHost: a\r\nX: a\x0cb\r\n\r\n${SMUGGLED}`],
  ["an ESC in a header value", `GET / HTTP/1.1\r\nHost: a\r\nX: a\x1bb\r\n\r\n${SMUGGLED}`],
  ["a DEL in the request target", `GET /a\x7fb HTTP/1.1\r\nHost: a\r\n\r\n${SMUGGLED}`],
  ["a tab in the request target", `GET /a\tb HTTP/1.1\r\nHost: a\r\n\r\n${SMUGGLED}`],
  ["a space in the request target", `GET /a b HTTP/1.1\r\nHost: a\r\n\r\n${SMUGGLED}`],
];

for (const [name, req] of CTLS) {
  Deno.test(`request with ${name} is refused with 400`, async () => {
    await assertRejected(req, { status: 400 });
  });
}

// -- line structure: obs-fold, bare LF, bare CR, space before the colon ------

const LINES: [string, string][] = [
  [
    "an obs-fold line starting with a space",
    `GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n${SMUGGLED}`,
  ],
  [
    "an obs-fold line starting with a tab",
    `GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n\tb\r\n\r\n${SMUGGLED}`,
  ],
  [
    "a first header line starting with a space",
    `GET / HTTP/1.1\r\n Host: a\r\nHost: a\r\n\r\n${SMUGGLED}`,
  ],
  ["bare LF line endings throughout", `GET / HTTP/1.1\nHost: a\n\n${SMUGGLED}`],
  ["a bare LF ending the request line", `GET / HTTP/1.1\nHost: a\r\n\r\n${SMUGGLED}`],
  ["a bare LF ending one header line", `GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n${SMUGGLED}`],
  ["a bare LF ending the head", `GET / HTTP/1.1\r\nHost: a\r\n\n${SMUGGLED}`],
  [
    "a bare LF hiding a Content-Length",
    post(`X: y\nContent-Length: ${SMUGGLED.length}\r\n`, SMUGGLED),
  ],
  ["a bare CR inside a header value", `GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n${SMUGGLED}`],
  ["a bare CR ending the request line", `GET / HTTP/1.1\rHost: a\r\n\r\n${SMUGGLED}`],
  ["CR CR LF ending a header line", `GET / HTTP/1.1\r\nHost: a\r\r\n\r\n${SMUGGLED}`],
  ["a space before the colon", `GET / HTTP/1.1\r\nHost : a\r\n\r\n${SMUGGLED}`],
  ["a tab before the colon", `GET / HTTP/1.1\r\nHost: a\r\nX\t: b\r\n\r\n${SMUGGLED}`],
  ["a header line without a colon", `GET / HTTP/1.1\r\nHost: a\r\nX-No-Colon\r\n\r\n${SMUGGLED}`],
];

for (const [name, req] of LINES) {
  Deno.test(`request with ${name} is refused with 400`, async () => {
    await assertRejected(req, { status: 400 });
  });
}

// -- versions --------------------------------------------------------------------

Deno.test("an HTTP/0.9 request (no version) is refused with 400", async () => {
  await assertRejected(`GET /\r\n\r\n${SMUGGLED}`, { status: 400 });
});

Deno.test('"HTTP/0.9" as a version is refused with 505', async () => {
  await assertRejected(`GET / HTTP/0.9\r\nHost: a\r\n\r\n${SMUGGLED}`, { status: 505 });
});

Deno.test('"HTTP/2.0" as a version is refused with 505', async () => {
  await assertRejected(`GET / HTTP/2.0\r\nHost: a\r\n\r\n${SMUGGLED}`, { status: 505 });
});

Deno.test("the HTTP/2 connection preface is refused with 505", async () => {
  await assertRejected(`PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n${SMUGGLED}`, { status: 505 });
});

Deno.test('a lower-case "http/1.1" version is refused with 400', async () => {
  await assertRejected(`GET / http/1.1\r\nHost: a\r\n\r\n${SMUGGLED}`, { status: 400 });
});

Deno.test("a space after the version is refused with 400", async () => {
  await assertRejected(`GET / HTTP/1.1 \r\nHost: a\r\n\r\n${SMUGGLED}`, { status: 400 });
});

// -- Host --------------------------------------------------------------------------

Deno.test("an HTTP/1.1 request without Host is refused with 400", async () => {
  await assertRejected(`GET / HTTP/1.1\r\nX: 1\r\n\r\n${SMUGGLED}`, { status: 400 });
});

Deno.test("two Host headers with different values are refused with 400", async () => {
  await assertRejected(`GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n${SMUGGLED}`, {
    status: 400,
  });
});

Deno.test("two Host headers with the same value are refused with 400", async () => {
  await assertRejected(`GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n${SMUGGLED}`, {
    status: 400,
  });
});

Deno.test("a Host with a list, userinfo or a space is refused with 400", async () => {
  for (const host of ["a, b", "u@b", "a b"]) {
    await assertRejected(`GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n${SMUGGLED}`, { status: 400 });
  }
});

Deno.test("an absolute-form target with userinfo is refused with 400", async () => {
  await assertRejected(`GET http://u@b/x HTTP/1.1\r\nHost: b\r\n\r\n${SMUGGLED}`, {
    status: 400,
  });
});

Deno.test("an absolute-form target with a different Host is sent with the target's authority only", async () => {
  await using up = modelUpstream();
  await using px = await httpProxy([up.address]);
  const r = await exchange(
    px.port,
    "GET http://api.test:8080/v1 HTTP/1.1\r\nHost: other.test\r\nConnection: close\r\n\r\n",
  );
  assert.match(r.text, /^HTTP\/1\.1 200 OK\r\n/);
  assert.ok(r.text.endsWith("\r\n\r\n/v1"), r.text);
  assert.ok(r.closed);
  await waitFor(() => px.logs.length === 1);
  assert.match(px.logs[0], / 200 \d+ - - ---- .*"GET http:\/\/api\.test:8080\/v1 HTTP\/1\.1"$/);
  await px.close();
  await up.close();
  assert.deepEqual(up.requests.map((q) => q.line), ["GET /v1 HTTP/1.1"]);
  const hosts = up.requests[0].head.split("\r\n").filter((l) => /^host\s*:/i.test(l));
  assert.deepEqual(hosts, ["Host: api.test:8080"], "one Host, from the target (RFC 9112 §3.2.2)");
});

// -- pipelining after the end of the connection --------------------------------

Deno.test("a request pipelined after Connection: close never reaches the upstream", async () => {
  await using up = modelUpstream();
  await using px = await httpProxy([up.address]);
  const r = await exchange(
    px.port,
    `GET /a HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n${SMUGGLED}`,
  );
  assert.deepEqual(responseStatusLines(r.text), ["HTTP/1.1 200 OK"]);
  assert.ok(r.text.endsWith("\r\n\r\n/a"), r.text);
  assert.ok(r.closed);
  await px.close();
  await up.close();
  assert.deepEqual(up.requests.map((q) => q.line), ["GET /a HTTP/1.1"]);
  assert.equal(px.logs.length, 1);
});

Deno.test("a refused request after a valid one on a kept-alive connection: the upstream sees only the valid one", async () => {
  await using up = modelUpstream();
  await using px = await httpProxy([up.address]);
  const c = await Deno.connect({ hostname: "127.0.0.1", port: px.port });
  let r1, r2;
  try {
    r1 = await exchangeOn(c, "GET /a HTTP/1.1\r\nHost: a\r\n\r\n", { until: responses(1) });
    // The same connection, kept alive (and its server connection with it), now carries CL.TE.
    const body = "0\r\n\r\n" + SMUGGLED;
    r2 = await exchangeOn(
      c,
      post(`Content-Length: ${body.length}\r\nTransfer-Encoding: chunked\r\n`, body),
    );
  } finally {
    try {
      c.close();
    } catch {
      // Closed at the deadline.
    }
  }
  assert.deepEqual(responseStatusLines(r1.text), ["HTTP/1.1 200 OK"]);
  assert.deepEqual(responseStatusLines(r2.text).map((l) => l.slice(0, 12)), ["HTTP/1.1 400"]);
  assert.ok(r2.closed);
  await waitFor(() => px.logs.length === 2);
  assert.match(px.logs[0], / 200 \d+ - - ---- .*"GET \/a HTTP\/1\.1"$/);
  assert.match(px.logs[1], / 400 \d+ - - PR-- .*"<BADREQ>"$/);
  await px.close();
  await up.close();
  assert.deepEqual(up.requests.map((q) => q.line), ["GET /a HTTP/1.1"]);
  assert.ok(!up.raw().includes("smuggled"));
});

// -- positive controls ---------------------------------------------------------------

Deno.test("a valid pipelined pair is answered in order and the upstream sees exactly two requests", async () => {
  await using up = modelUpstream();
  await using px = await httpProxy([up.address]);
  const r = await exchange(
    px.port,
    "GET /a HTTP/1.1\r\nHost: a\r\n\r\nPOST /b HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nxyz",
    { until: responses(2) },
  );
  assert.deepEqual(responseStatusLines(r.text), ["HTTP/1.1 200 OK", "HTTP/1.1 200 OK"]);
  assert.deepEqual([...r.text.matchAll(/\r\n\r\n(\/[ab])/g)].map((m) => m[1]), ["/a", "/b"]);
  assert.ok(!/connection: close/i.test(r.text), "the connection stays open");
  await waitFor(() => px.logs.length === 2);
  await px.close();
  await up.close();
  assert.deepEqual(up.requests.map((q) => q.line), ["GET /a HTTP/1.1", "POST /b HTTP/1.1"]);
  assert.equal(up.requests[1].body, "xyz");
  assert.equal(up.accepted, 1, "one server connection, reused");
  for (const l of px.logs) assert.match(l, / 200 \d+ - - ---- /);
});

Deno.test("a Content-Length body that looks like a request is forwarded as body only", async () => {
  await using up = modelUpstream();
  await using px = await httpProxy([up.address]);
  const r = await exchange(
    px.port,
    post(`Content-Length: ${SMUGGLED.length}\r\nConnection: close\r\n`, SMUGGLED),
  );
  assert.deepEqual(responseStatusLines(r.text), ["HTTP/1.1 200 OK"]);
  assert.ok(r.closed);
  await waitFor(() => px.logs.length === 1);
  assert.match(px.logs[0], / 200 \d+ - - ---- .*"POST \/ HTTP\/1\.1"$/);
  await px.close();
  await up.close();
  assert.deepEqual(up.requests.map((q) => q.line), ["POST / HTTP/1.1"]);
  assert.equal(up.requests[0].body, SMUGGLED);
});

Deno.test("a chunked body that looks like a request is forwarded as body only", async () => {
  await using up = modelUpstream();
  await using px = await httpProxy([up.address]);
  const r = await exchange(
    px.port,
    post("Transfer-Encoding: chunked\r\nConnection: close\r\n", chunked(SMUGGLED)),
  );
  assert.deepEqual(responseStatusLines(r.text), ["HTTP/1.1 200 OK"]);
  assert.ok(r.closed);
  await px.close();
  await up.close();
  assert.deepEqual(up.requests.map((q) => q.line), ["POST / HTTP/1.1"]);
  assert.equal(up.requests[0].body, SMUGGLED);
});

// -- the response side -------------------------------------------------------------------

/** After a bad response: a new request gets a fresh server connection and a good answer. */
async function assertNotReused(
  bad: FirstConnUpstream,
  port: number,
): Promise<void> {
  await waitFor(() => bad.firstDone, 2000, "the bad server connection closed");
  const r = await exchange(port, "GET /next HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
  assert.deepEqual(responseStatusLines(r.text), ["HTTP/1.1 200 OK"]);
  assert.ok(r.text.endsWith("/next"), r.text);
  assert.equal(bad.up.accepted, 2, "the bad server connection was not reused");
}

const RESPONSE_SMUGGLE = "HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nsmuggled";

Deno.test("a response with both Content-Length and Transfer-Encoding gets the client a 502, the server connection is closed", async () => {
  await using bad = firstConnUpstream(async (conn) => {
    await writeAll(
      conn,
      latin1(
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n" +
          `0\r\n\r\n${RESPONSE_SMUGGLE}`,
      ),
    );
  });
  await using px = await httpProxy([bad.up.address]);
  const r = await exchange(px.port, "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n");
  assert.deepEqual(responseStatusLines(r.text).map((l) => l.slice(0, 12)), ["HTTP/1.1 502"]);
  assert.ok(!r.text.includes("smuggled"));
  assert.ok(r.closed, "the client connection is closed after the 502");
  await waitFor(() => px.logs.length === 1);
  assert.match(px.logs[0], / fe be\/s1 \S+ 502 \d+ - - PH-- .*"GET \/1 HTTP\/1\.1"$/);
  await assertNotReused(bad, px.port);
});

Deno.test("a response with two different Content-Length values gets the client a 502, the server connection is closed", async () => {
  await using bad = firstConnUpstream(async (conn) => {
    await writeAll(
      conn,
      latin1(
        `HTTP/1.1 200 OK\r\nContent-Length: 0\r\nContent-Length: 45\r\n\r\n${RESPONSE_SMUGGLE}`,
      ),
    );
  });
  await using px = await httpProxy([bad.up.address]);
  const r = await exchange(px.port, "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n");
  assert.deepEqual(responseStatusLines(r.text).map((l) => l.slice(0, 12)), ["HTTP/1.1 502"]);
  assert.ok(!r.text.includes("smuggled"));
  assert.ok(r.closed);
  await waitFor(() => px.logs.length === 1);
  assert.match(px.logs[0], / 502 \d+ - - PH-- /);
  await assertNotReused(bad, px.port);
});

Deno.test("a response with a malformed chunk after the head left closes the client, the server connection is closed", async () => {
  let go!: () => void;
  const sent = new Promise<void>((r) => go = r);
  await using bad = firstConnUpstream(async (conn) => {
    await writeAll(
      conn,
      latin1("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"),
    );
    await sent;
    await writeAll(conn, latin1(`zz\r\n${RESPONSE_SMUGGLE}`));
  });
  await using px = await httpProxy([bad.up.address]);
  const c = await Deno.connect({ hostname: "127.0.0.1", port: px.port });
  let text = "", closed = false;
  try {
    const r1 = await exchangeOn(c, "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n", {
      until: (t) => t.endsWith("hello\r\n"),
    });
    // The head and the first chunk reached the client: now the bad chunk.
    go();
    const r2 = await exchangeOn(c, "");
    text = r1.text + r2.text;
    closed = r2.closed;
  } finally {
    go();
    try {
      c.close();
    } catch {
      // Closed at the deadline.
    }
  }
  assert.ok(closed, "the proxy closed the client connection");
  assert.ok(text.startsWith("HTTP/1.1 200 OK\r\n"), text);
  assert.ok(text.endsWith("\r\n\r\n5\r\nhello\r\n"), "the client got up to the last valid chunk");
  assert.ok(!text.includes("smuggled"));
  await waitFor(() => px.logs.length === 1);
  assert.match(px.logs[0], / 200 \d+ - - SD-- .*"GET \/1 HTTP\/1\.1"$/);
  await assertNotReused(bad, px.port);
});

// -- regressions: cases that once failed ------------------------------------

/**
 * RFC 9110 §8.6 lets a recipient of identical Content-Length values either
 * reject the message (400) or replace them with a single field; either is
 * accepted here. Sluice forwards a single field (it once forwarded both,
 * leaving the ambiguous form for the server).
 */
Deno.test("Content-Length twice with the same value is merged: one request, one Content-Length upstream", async () => {
  await using up = modelUpstream();
  await using px = await httpProxy([up.address]);
  const body = "hello";
  const r = await exchange(
    px.port,
    "POST /d HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n" +
      `Connection: close\r\n\r\n${body}${SMUGGLED}`,
  );
  assert.ok(r.closed);
  await px.close();
  await up.close();
  if (r.text.startsWith("HTTP/1.1 400 ")) {
    // Rejecting is the other answer RFC 9110 allows: then nothing is forwarded.
    assert.deepEqual(responseStatusLines(r.text).map((l) => l.slice(0, 12)), ["HTTP/1.1 400"]);
    assert.equal(up.raw(), "");
    return;
  }
  assert.deepEqual(responseStatusLines(r.text), ["HTTP/1.1 200 OK"]);
  assert.deepEqual(up.requests.map((q) => q.line), ["POST /d HTTP/1.1"]);
  assert.equal(up.requests[0].body, body);
  const cls = up.requests[0].head.split("\r\n").filter((l) => /^content-length\s*:/i.test(l));
  assert.deepEqual(cls, ["Content-Length: 5"], "RFC 9110 §8.6: replaced by a single field");
});

/**
 * When the head and a malformed first chunk arrive together, nothing has
 * left for the client yet, so it can still get a 502 (HAProxy answers 502,
 * PH-- here). Sluice once aborted on the chunk and erased the unsent head:
 * the client got zero bytes and the log claimed a 200 ("200 47 - - SD--").
 */
Deno.test("a response with a malformed first chunk arriving with the head gets the client a 502", async () => {
  await using bad = firstConnUpstream(async (conn) => {
    await writeAll(
      conn,
      latin1(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n" +
          "HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nsmuggled",
      ),
    );
  });
  await using px = await httpProxy([bad.up.address]);
  const r = await exchange(px.port, "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n");
  assert.deepEqual(
    responseStatusLines(r.text).map((l) => l.slice(0, 12)),
    ["HTTP/1.1 502"],
    JSON.stringify(r.text),
  );
  assert.ok(!r.text.includes("smuggled"));
  assert.ok(r.closed);
  await waitFor(() => px.logs.length === 1);
  assert.match(px.logs[0], / 502 \d+ - - [PS][HD]-- .*"GET \/1 HTTP\/1\.1"$/);
  // The server connection was closed, not reused.
  await waitFor(() => bad.firstDone, 2000, "the bad server connection closed");
  const r2 = await exchange(px.port, "GET /next HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
  assert.deepEqual(responseStatusLines(r2.text), ["HTTP/1.1 200 OK"]);
  assert.equal(bad.up.accepted, 2);
});

/**
 * A valid request pipelined with an invalid one in the same segment. The
 * invalid one was once parsed while the first response was still in the
 * response buffer, and its error answer erased that response: the client
 * got nothing although the log said "200 40 - - ----". A pipelined request
 * now waits until the previous response has left.
 */
Deno.test("a refused request pipelined after a valid one: the valid one is answered, then 400", async () => {
  await using up = modelUpstream();
  await using px = await httpProxy([up.address]);
  const body = "0\r\n\r\n" + SMUGGLED;
  const r = await exchange(
    px.port,
    "GET /a HTTP/1.1\r\nHost: a\r\n\r\n" +
      "POST / HTTP/1.1\r\nHost: a\r\n" +
      `Content-Length: ${body.length}\r\nTransfer-Encoding: chunked\r\n\r\n${body}`,
  );
  assert.deepEqual(
    responseStatusLines(r.text).map((l) => l.slice(0, 12)),
    ["HTTP/1.1 200", "HTTP/1.1 400"],
    JSON.stringify(r.text),
  );
  assert.ok(r.text.includes("\r\n\r\n/aHTTP/1.1 400 "), "answered in order");
  assert.ok(r.closed);
  await waitFor(() => px.logs.length === 2);
  assert.match(px.logs[0], / 200 \d+ - - ---- .*"GET \/a HTTP\/1\.1"$/);
  assert.match(px.logs[1], / 400 \d+ - - PR-- .*"<BADREQ>"$/);
  await px.close();
  await up.close();
  assert.deepEqual(up.requests.map((q) => q.line), ["GET /a HTTP/1.1"]);
  assert.ok(!up.raw().includes("smuggled"));
});
