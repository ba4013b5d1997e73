/**
 * bodyForward(): Content-Length, until-close and chunked bodies forwarded
 * through a channel; the chunk-size line grammar (hex size with an overflow
 * bound, extensions), the CRLF after chunk data, the last chunk, trailers and
 * their bounds, and the promise that a body gives the same result however
 * its bytes are split.
 */
import assert from "node:assert/strict";
import { Channel, chnErase, chnRcvd } from "../../lib/buf/channel.ts";
import { CHN_INFINITE_FORWARD } from "../../lib/buf/channel_types.ts";
import {
  BODY_CHUNK_CRLF,
  BODY_CHUNK_DATA,
  BODY_CHUNK_SIZE,
  BODY_CLEN,
  BODY_CLOSE,
  BODY_DONE,
  BODY_NONE,
  BODY_TRAILERS,
  bodyForward,
  BodyState,
  MAX_CHUNK_LINE,
  MAX_TRAILERS,
} from "../../lib/http/h1_body.ts";
import { H1_ST_CHUNK, H1_ST_TRAILERS } from "../../lib/http/h1_types.ts";
import { bin, mulberry32 } from "../helpers/bytes.ts";

/** Latin-1 text of `a`. */
function text(a: Uint8Array): string {
  let s = "";
  for (let i = 0; i < a.length; i += 4096) {
    s += String.fromCharCode(...a.subarray(i, Math.min(a.length, i + 4096)));
  }
  return s;
}

interface BodyOpts {
  /** BODY_* kind given to BodyState.start() (default chunked). */
  kind?: number;
  /** Content-Length for BODY_CLEN. */
  len?: number;
  /** maxBody (default 0: unlimited). */
  maxBody?: number;
  /** Status for malformed input (default 400, a request). */
  bad?: number;
  /** Ring size (default: the whole input plus some output already queued). */
  ring?: number;
}

/** What feeding a body ended with, for comparing ways of feeding the same bytes. */
interface BodyOutcome {
  r: number;
  st: number;
  errCode: number;
  errState: number;
  errMsg: string;
  total: number;
  trailers: number;
  trailerBytes: number;
  /** Every byte moved to the output, in order (the bytes the peer receives). */
  fwd: string;
}

interface BodyRun extends BodyOutcome {
  /** Input bytes left unforwarded at the end (the next message, or the bad part). */
  rest: string;
  bs: BodyState;
  chn: Channel;
}

/** Bytes of output queued before the body, so the input starts mid-ring and wraps. */
const QUEUED = 7;

/**
 * Feeds `bytes` to a channel in steps given by `next()` the way a connection
 * does (into the ring, then chnRcvd()), calls bodyForward() after each step
 * and sends the output away, until it returns non-zero or the bytes run out.
 */
function feed(bytes: Uint8Array, opts: BodyOpts, next: () => number): BodyRun {
  const chn = new Channel();
  chn.buf.attach(new Uint8Array(opts.ring ?? bytes.length + QUEUED + 1));
  // Some output still queued from the head: the body starts at an offset and,
  // once the output is sent, later bytes wrap around the end of the ring.
  chn.buf.putIn(bin("x".repeat(QUEUED)));
  chn.buf.forward(QUEUED);
  const bs = new BodyState();
  bs.start(chn, opts.kind ?? BODY_CHUNK_SIZE, opts.len ?? -1);
  const maxBody = opts.maxBody ?? 0, bad = opts.bad ?? 400;
  let fwd = "";
  let queued = true;
  const send = () => {
    const out = text(chn.buf.peekOut());
    chn.buf.sndCommit(chn.buf.out);
    if (queued) {
      queued = false;
      return out.slice(QUEUED);
    }
    return out;
  };
  let r = bodyForward(chn, bs, maxBody, bad);
  fwd += send();
  let done = 0, calls = 1;
  while (r === 0 && done < bytes.length) {
    const want = Math.min(bytes.length - done, Math.max(1, next()));
    const n = chn.buf.putIn(bytes.subarray(done, done + want));
    assert.ok(n > 0, `the ring is full with ${chn.buf.in} input bytes: the test ring is too small`);
    chnRcvd(chn, n);
    done += n;
    r = bodyForward(chn, bs, maxBody, bad);
    fwd += send();
    assert.ok(++calls <= bytes.length + 1, "bodyForward() called more times than bytes");
  }
  const rest = text(bytes.subarray(done - chn.buf.in));
  return {
    r,
    st: bs.st,
    errCode: bs.errCode,
    errState: bs.errState,
    errMsg: bs.errMsg,
    total: bs.total,
    trailers: bs.trailers,
    trailerBytes: bs.trailerBytes,
    fwd,
    rest,
    bs,
    chn,
  };
}

/** Feeds `s` in one piece. */
function body(s: string, opts: BodyOpts = {}): BodyRun {
  const bytes = bin(s);
  return feed(bytes, opts, () => bytes.length);
}

function outcome(b: BodyRun): BodyOutcome {
  const { rest: _rest, bs: _bs, chn: _chn, ...o } = b;
  return o;
}

/** outcome() with the forwarded bytes as a count, for readable diffs of long bodies. */
function brief(b: BodyRun): Omit<BodyOutcome, "fwd"> & { fwd: number } {
  return { ...outcome(b), fwd: b.fwd.length };
}

/** Asserts a complete body that forwarded exactly `fwd` and left `rest`. */
function assertDone(b: BodyRun, fwd: string, rest = "", why = ""): void {
  assert.equal(b.r, 1, `expected a complete body ${why}, got r=${b.r} "${b.errMsg}"`);
  assert.equal(b.st, BODY_DONE);
  assert.equal(b.errCode, 0);
  assert.equal(b.fwd, fwd, `forwarded bytes ${why}`);
  assert.equal(b.rest, rest, `bytes left ${why}`);
}

/** Asserts a rejection with this status, state and reason (when given). */
function assertFail(b: BodyRun, code: number, state: number, why?: string, ctx = ""): void {
  assert.equal(b.r, -1, `expected a rejection ${ctx}, got r=${b.r} st=${b.st}`);
  assert.equal(b.errCode, code, `errCode ${ctx} ("${b.errMsg}")`);
  assert.equal(b.errState, state, `errState ${ctx} ("${b.errMsg}")`);
  if (why !== undefined) assert.equal(b.errMsg, why, `errMsg ${ctx}`);
}

/** Asserts that the body is waiting for more bytes. */
function assertWaits(b: BodyRun, st: number, ctx = ""): void {
  assert.equal(b.r, 0, `expected to wait ${ctx}, got r=${b.r} "${b.errMsg}"`);
  assert.equal(b.st, st, `state ${ctx}`);
  assert.equal(b.errCode, 0);
}

/** A chunked body carrying `chunks` (sizes in lowercase hex), last chunk, no trailers. */
function chunked(...chunks: string[]): string {
  return chunks.map((c) => `${c.length.toString(16)}\r\n${c}\r\n`).join("") + "0\r\n\r\n";
}

// -- Content-Length, none, until close ------------------------------------------

Deno.test("BodyState.start() with BODY_NONE makes the body complete at once", () => {
  assertDone(body("GET / HTTP/1.1\r\n", { kind: BODY_NONE }), "", "GET / HTTP/1.1\r\n");
});

Deno.test("BodyState.start() with a Content-Length of 0 completes at once and forwards nothing", () => {
  assertDone(body("next", { kind: BODY_CLEN, len: 0 }), "", "next");
});

Deno.test("bodyForward() forwards exactly Content-Length bytes and leaves the next message", () => {
  const b = body("helloGET / HTTP/1.1\r\n", { kind: BODY_CLEN, len: 5 });
  assertDone(b, "hello", "GET / HTTP/1.1\r\n");
  assert.equal(b.total, 5);
});

Deno.test("bodyForward() waits until every Content-Length byte has arrived", () => {
  const b = body("hell", { kind: BODY_CLEN, len: 5 });
  assertWaits(b, BODY_CLEN);
  assert.equal(b.fwd, "hell");
  assert.equal(b.chn.toForward, 1);
});

Deno.test("BodyState.start() forwards Content-Length bytes already in the buffer at once", () => {
  const chn = new Channel();
  chn.buf.attach(new Uint8Array(32));
  chn.buf.putIn(bin("abcdefXYZ"));
  const bs = new BodyState();
  bs.start(chn, BODY_CLEN, 6);
  assert.equal(chn.buf.out, 6);
  assert.equal(chn.buf.in, 3);
  assert.equal(chn.toForward, 0);
  assert.equal(bodyForward(chn, bs, 0, 400), 1);
  assert.equal(bs.st, BODY_DONE);
});

Deno.test("bodyForward() forwards a body until close forever and never completes it", () => {
  const s = "any\r\nbytes 0\r\n\r\n at all";
  const b = body(s, { kind: BODY_CLOSE });
  assertWaits(b, BODY_CLOSE);
  assert.equal(b.fwd, s);
  assert.equal(b.chn.toForward, CHN_INFINITE_FORWARD);
});

// -- chunked: valid bodies ------------------------------------------------------

Deno.test("bodyForward() accepts a chunked body and forwards it unchanged", () => {
  const s = chunked("hello", " ", "world!");
  const b = body(s + "NEXT");
  assertDone(b, s, "NEXT");
  assert.equal(b.total, 12);
  assert.equal(b.trailers, 0);
});

Deno.test("bodyForward() accepts a body that is only the last chunk", () => {
  const b = body("0\r\n\r\n");
  assertDone(b, "0\r\n\r\n");
  assert.equal(b.total, 0);
});

Deno.test("bodyForward() reads chunk sizes as hexadecimal digits in either case", () => {
  for (const [size, n] of [["a", 10], ["A", 10], ["1f", 31], ["1F", 31], ["10", 16]] as const) {
    const s = `${size}\r\n${"x".repeat(n)}\r\n0\r\n\r\n`;
    const b = body(s);
    assertDone(b, s, "", size);
    assert.equal(b.total, n, size);
  }
});

Deno.test("bodyForward() accepts leading zeros in a chunk size", () => {
  const s = "0005\r\nhello\r\n000\r\n\r\n";
  const b = body(s);
  assertDone(b, s);
  assert.equal(b.total, 5);
});

Deno.test("bodyForward() counts the sizes of all chunks in total", () => {
  const b = body(chunked("a", "bb", "c".repeat(300)));
  assert.equal(b.r, 1);
  assert.equal(b.total, 303);
});

Deno.test("bodyForward() tolerates whitespace after the chunk size, as HAProxy does", () => {
  for (const line of ["5 ", "5\t", "5 \t "]) {
    const s = `${line}\r\nhello\r\n0\r\n\r\n`;
    assertDone(body(s), s, "", JSON.stringify(line));
  }
});

// -- chunked: chunk sizes ---------------------------------------------------------

Deno.test("bodyForward() accepts a chunk size of 13 hex digits (just under 2^52)", () => {
  const b = body("fffffffffffff\r\nabc");
  assertWaits(b, BODY_CHUNK_DATA);
  assert.equal(b.total, 2 ** 52 - 1);
  assert.equal(b.fwd, "fffffffffffff\r\nabc");
  assert.equal(b.chn.toForward, 2 ** 52 - 1 - 3);
});

Deno.test("bodyForward() rejects a chunk size of 14 significant hex digits as an overflow", () => {
  assertFail(body("10000000000000\r\n"), 400, H1_ST_CHUNK, "invalid chunk size line");
});

Deno.test("bodyForward() rejects a huge chunk size instead of wrapping it", () => {
  for (
    const size of [
      "ffffffffffffffff", // 2^64 - 1: wraps to -1 in 64-bit arithmetic
      "10000000000000000", // 2^64: wraps to 0
      "100000000", // 2^32: wraps to 0 in 32-bit arithmetic
      "f".repeat(200),
    ]
  ) {
    const b = body(`${size}\r\nx\r\n0\r\n\r\n`);
    if (size === "100000000") {
      // 2^32 fits: it must be read as 4 GiB, not as an empty last chunk.
      assertWaits(b, BODY_CHUNK_DATA, size);
      assert.equal(b.total, 2 ** 32);
    } else assertFail(b, 400, H1_ST_CHUNK, "invalid chunk size line", size);
  }
});

Deno.test("bodyForward() rejects a negative chunk size", () => {
  assertFail(body("-1\r\nx\r\n0\r\n\r\n"), 400, H1_ST_CHUNK, "invalid chunk size line");
});

Deno.test("bodyForward() rejects a chunk size with a 0x prefix", () => {
  // "0x10" must not be read as 0 (the last chunk) followed by junk, nor as 16.
  const b = body("0x10\r\n" + "x".repeat(16) + "\r\n0\r\n\r\n");
  assertFail(b, 400, H1_ST_CHUNK, "invalid chunk size line");
  assert.equal(b.fwd, "");
});

Deno.test("bodyForward() rejects a sign before the chunk size", () => {
  assertFail(body("+5\r\nhello\r\n0\r\n\r\n"), 400, H1_ST_CHUNK);
});

Deno.test("bodyForward() rejects whitespace before the chunk size", () => {
  for (const line of [" 10", "\t10", " 0"]) {
    assertFail(body(`${line}\r\n`), 400, H1_ST_CHUNK, "invalid chunk size line", line);
  }
});

Deno.test("bodyForward() rejects whitespace inside the chunk size", () => {
  for (const line of ["1 0", "1\t0", "0 0"]) {
    assertFail(body(`${line}\r\n`), 400, H1_ST_CHUNK, "invalid chunk size line", line);
  }
});

Deno.test("bodyForward() rejects a chunk size line with no digits", () => {
  for (const line of ["", ";a=b", "g", "z5"]) {
    assertFail(body(`${line}\r\n`), 400, H1_ST_CHUNK, "invalid chunk size line", line);
  }
});

Deno.test("bodyForward() rejects a non-hex character right after the chunk size", () => {
  for (const line of ["1g", "5x", "5.0", "5,", "5\x00", "5\x80"]) {
    assertFail(
      body(`${line}\r\nhello\r\n0\r\n\r\n`),
      400,
      H1_ST_CHUNK,
      "invalid chunk size line",
      JSON.stringify(line),
    );
  }
});

// -- chunked: extensions ----------------------------------------------------------

Deno.test("bodyForward() accepts chunk extensions with token and quoted-string values", () => {
  for (
    const ext of [
      ";name",
      ";a=b",
      ";a=b;c=d",
      ';a="quoted value"',
      ';a="with \\"escaped\\" quote"',
      ";a ; b = c",
      ' ; a = "x" ; b',
      ';a="tab\there and obs-text \xe9"',
      ";!#$%&'*+-.^_`|~09=!#$%&'*+-.^_`|~09",
    ]
  ) {
    const s = `5${ext}\r\nhello\r\n0${ext}\r\n\r\n`;
    const b = body(s);
    assertDone(b, s, "", JSON.stringify(ext));
    assert.equal(b.total, 5);
  }
});

Deno.test("bodyForward() rejects a chunk extension without a name", () => {
  for (const ext of [";", ";=x", ";;a", "; ", ";a;"]) {
    assertFail(body(`5${ext}\r\nhello\r\n`), 400, H1_ST_CHUNK, undefined, JSON.stringify(ext));
  }
});

Deno.test("bodyForward() rejects a chunk extension with an empty value", () => {
  for (const ext of [";a=", ";a= ", ";a=;b"]) {
    assertFail(body(`5${ext}\r\nhello\r\n`), 400, H1_ST_CHUNK, undefined, JSON.stringify(ext));
  }
});

Deno.test("bodyForward() rejects an unterminated quoted extension value", () => {
  for (const ext of [';a="x', ';a="', ';a="x\\"', ';a="\\']) {
    assertFail(body(`5${ext}\r\nhello\r\n`), 400, H1_ST_CHUNK, undefined, JSON.stringify(ext));
  }
});

Deno.test("bodyForward() rejects garbage after a chunk extension", () => {
  for (const ext of [';a="x"y', ";a b", ";a=b c", ";a=b=c", ';a=b"c"', ";a,b"]) {
    assertFail(body(`5${ext}\r\nhello\r\n`), 400, H1_ST_CHUNK, undefined, JSON.stringify(ext));
  }
});

Deno.test("bodyForward() rejects non-token characters in extension names and token values", () => {
  for (const ext of [";a(b", ";a/b", ";a@=b", ";a=b(c", ";a=b/c", ";\xe9", ";a=\xe9"]) {
    assertFail(body(`5${ext}\r\nhello\r\n`), 400, H1_ST_CHUNK, undefined, JSON.stringify(ext));
  }
});

Deno.test("bodyForward() rejects NUL and control characters in a chunk extension", () => {
  for (const c of ["\x00", "\x01", "\x08", "\x0b", "\x1f", "\x7f"]) {
    for (
      const ext of [
        `;a${c}`,
        `;a=${c}`,
        `;a=b${c}`,
        `;a="${c}"`,
        `;a="x${c}y"`,
        // A backslash escapes only HTAB, SP, VCHAR and obs-text (RFC 9110 §5.6.4).
        `;a="\\${c}"`,
      ]
    ) {
      assertFail(
        body(`5${ext}\r\nhello\r\n0\r\n\r\n`),
        400,
        H1_ST_CHUNK,
        "invalid chunk size line",
        JSON.stringify(ext),
      );
    }
  }
});

Deno.test("bodyForward() accepts a chunk-size line of exactly MAX_CHUNK_LINE bytes", () => {
  const line = "5;x=" + "v".repeat(MAX_CHUNK_LINE - 6) + "\r\n";
  assert.equal(line.length, MAX_CHUNK_LINE);
  const s = line + "hello\r\n0\r\n\r\n";
  assertDone(body(s), s);
});

Deno.test("bodyForward() rejects a chunk-size line longer than MAX_CHUNK_LINE", () => {
  const line = "5;x=" + "v".repeat(MAX_CHUNK_LINE - 5) + "\r\n";
  const b = body(line + "hello\r\n0\r\n\r\n");
  assertFail(b, 400, H1_ST_CHUNK, "chunk size line too long");
  assert.equal(b.fwd, "");
});

Deno.test("bodyForward() rejects an endless chunk-size line without waiting for its end", () => {
  assertFail(
    body("5;x=" + "v".repeat(MAX_CHUNK_LINE)),
    400,
    H1_ST_CHUNK,
    "chunk size line too long",
  );
  // One byte short of the limit: it may still end in time.
  assertWaits(body("5;x=" + "v".repeat(MAX_CHUNK_LINE - 5)), BODY_CHUNK_SIZE);
});

// -- chunked: line endings -----------------------------------------------------------

Deno.test("bodyForward() rejects a bare LF ending a chunk-size line", () => {
  assertFail(body("5\nhello\r\n0\r\n\r\n"), 400, H1_ST_CHUNK, "bad line ending");
  assertFail(body("5\r\nhello\r\n0\n\r\n"), 400, H1_ST_CHUNK, "bad line ending");
});

Deno.test("bodyForward() rejects a chunk-size line that is only a LF", () => {
  assertFail(body("\n"), 400, H1_ST_CHUNK, "bad line ending");
});

Deno.test("bodyForward() rejects a CR not followed by LF in a chunk-size line", () => {
  for (const s of ["5\rX\r\n", "5\r\r\n", "5;a=b\rc\r\n", "\r5\r\n"]) {
    assertFail(body(s), 400, H1_ST_CHUNK, "bad line ending", JSON.stringify(s));
  }
});

Deno.test("bodyForward() waits when a chunk-size line ends with a CR for now", () => {
  const b = body("5\r");
  assertWaits(b, BODY_CHUNK_SIZE);
  assert.equal(b.fwd, "");
});

Deno.test("bodyForward() rejects a bare LF ending the body or a trailer", () => {
  assertFail(body("0\r\n\n"), 400, H1_ST_TRAILERS, "bad line ending");
  assertFail(body("0\r\nX: 1\n\r\n"), 400, H1_ST_TRAILERS, "bad line ending");
});

Deno.test("bodyForward() rejects a CR not followed by LF in the trailers", () => {
  assertFail(body("0\r\n\rX"), 400, H1_ST_TRAILERS, "bad line ending");
  assertFail(body("0\r\nX: a\rb\r\n\r\n"), 400, H1_ST_TRAILERS, "bad line ending");
});

// -- chunked: the CRLF after chunk data --------------------------------------------------

Deno.test("bodyForward() rejects chunk data not followed by CRLF", () => {
  for (
    const s of [
      "5\r\nhelloX\r\n0\r\n\r\n", // data longer than its size
      "5\r\nhello\n0\r\n\r\n", // LF only
      "5\r\nhello\rX0\r\n\r\n", // CR only
      "5\r\nhello0\r\n\r\n", // nothing
      "5\r\nhell\r\n0\r\n\r\n", // data shorter than its size
    ]
  ) {
    const b = body(s);
    assertFail(b, 400, H1_ST_CHUNK, "missing CRLF after chunk data", JSON.stringify(s));
    assert.equal(b.fwd, s.slice(0, 8), "the data went, its bad ending did not");
  }
});

Deno.test("bodyForward() rejects a bad first byte after chunk data without waiting for a second", () => {
  assertFail(body("5\r\nhelloX"), 400, H1_ST_CHUNK, "missing CRLF after chunk data");
  assertFail(body("5\r\nhello\n"), 400, H1_ST_CHUNK, "missing CRLF after chunk data");
});

Deno.test("bodyForward() waits for the LF after the CR that ends chunk data", () => {
  const b = body("5\r\nhello\r");
  assertWaits(b, BODY_CHUNK_CRLF);
  assert.equal(b.fwd, "5\r\nhello");
});

// -- chunked: last chunk and trailers -------------------------------------------------------

Deno.test("bodyForward() waits after the last chunk until the empty line arrives", () => {
  const b = body("5\r\nhello\r\n0\r\n");
  assertWaits(b, BODY_TRAILERS);
  assert.equal(b.fwd, "5\r\nhello\r\n0\r\n");
  assertWaits(body("0\r\n\r"), BODY_TRAILERS);
});

Deno.test("bodyForward() ends the body at the empty line after the last chunk", () => {
  // What follows is the next message: a chunk-like line must not be taken.
  assertDone(body("0\r\n\r\n5\r\nhello\r\n"), "0\r\n\r\n", "5\r\nhello\r\n");
});

Deno.test("bodyForward() accepts a last chunk with extensions", () => {
  assertDone(body('0;a=b;c="d"\r\n\r\n'), '0;a=b;c="d"\r\n\r\n');
});

Deno.test("bodyForward() accepts trailer fields, forwards them and counts them", () => {
  const s = "3\r\nabc\r\n0\r\nExpires: never\r\nX-Sum:\r\nX-T: a\tb \xe9\r\n\r\n";
  const b = body(s + "next");
  assertDone(b, s, "next");
  assert.equal(b.trailers, 3);
  assert.equal(b.trailerBytes, "Expires: never\r\nX-Sum:\r\nX-T: a\tb \xe9\r\n".length);
});

Deno.test("bodyForward() rejects a malformed trailer field", () => {
  for (
    const t of [
      "NoColon",
      "X : 1",
      ": empty name",
      " X: folded",
      "\tX: folded",
      "X(: 1",
      "X: \x00",
      "X: a\x01b",
      "X: \x7f",
    ]
  ) {
    assertFail(
      body(`0\r\n${t}\r\n\r\n`),
      400,
      H1_ST_TRAILERS,
      "invalid trailer field",
      JSON.stringify(t),
    );
  }
});

Deno.test("bodyForward() accepts 100 trailer fields and rejects 101", () => {
  const many = (n: number) => "0\r\n" + "X: 1\r\n".repeat(n) + "\r\n";
  const b = body(many(100));
  assertDone(b, many(100));
  assert.equal(b.trailers, 100);
  assertFail(body(many(101)), 400, H1_ST_TRAILERS, "too many trailer fields");
});

Deno.test("bodyForward() accepts exactly MAX_TRAILERS bytes of trailers and no more", () => {
  const line = (n: number) => "X: " + "v".repeat(n - 5) + "\r\n";
  const fits = line(4096).repeat(MAX_TRAILERS / 4096 - 1) + line(4096);
  assert.equal(fits.length, MAX_TRAILERS);
  const b = body("0\r\n" + fits + "\r\n");
  assertDone(b, "0\r\n" + fits + "\r\n");
  assert.equal(b.trailerBytes, MAX_TRAILERS);
  const over = line(4096).repeat(MAX_TRAILERS / 4096 - 1) + line(4097);
  assertFail(body("0\r\n" + over + "\r\n"), 400, H1_ST_TRAILERS, "trailers too large");
});

Deno.test("bodyForward() rejects one endless trailer line without waiting for its end", () => {
  assertFail(
    body("0\r\nX: " + "v".repeat(MAX_TRAILERS)),
    400,
    H1_ST_TRAILERS,
    "trailers too large",
  );
});

Deno.test("bodyForward() rejects a trailer after MAX_TRAILERS bytes were used", () => {
  const line = "X: " + "v".repeat(4091) + "\r\n";
  const full = "0\r\n" + line.repeat(MAX_TRAILERS / 4096);
  assertFail(body(full + "Y: 1\r\n\r\n"), 400, H1_ST_TRAILERS, "trailers too large");
});

// -- limits and error answers ----------------------------------------------------------------

Deno.test("bodyForward() answers 413 when a request's chunks add up beyond maxBody", () => {
  const b = body(chunked("aaaa", "bbbb", "c"), { maxBody: 8 });
  assertFail(b, 413, H1_ST_CHUNK, "body above the limit");
  assert.equal(b.fwd, "4\r\naaaa\r\n4\r\nbbbb\r\n", "nothing of the chunk over the limit");
});

Deno.test("bodyForward() accepts a chunked body of exactly maxBody bytes", () => {
  const s = chunked("aaaa", "bbbb");
  assertDone(body(s, { maxBody: 8 }), s);
});

Deno.test("bodyForward() rejects a chunk over maxBody before its data arrives", () => {
  const b = body("ffff\r\n", { maxBody: 1000 });
  assertFail(b, 413, H1_ST_CHUNK, "body above the limit");
});

Deno.test("bodyForward() answers 502 (not 413) when a response's chunks exceed maxBody", () => {
  assertFail(body(chunked("aaaa", "b"), { maxBody: 4, bad: 502 }), 502, H1_ST_CHUNK);
});

Deno.test("bodyForward() answers malformed bodies with the status it is given", () => {
  assertFail(body("zz\r\n", { bad: 400 }), 400, H1_ST_CHUNK);
  assertFail(body("zz\r\n", { bad: 502 }), 502, H1_ST_CHUNK);
  assertFail(body("0\r\nbad\r\n\r\n", { bad: 502 }), 502, H1_ST_TRAILERS);
});

// -- forwarding -----------------------------------------------------------------------------

Deno.test("bodyForward() never forwards a chunk-size line before it is complete and valid", () => {
  const b = body('5;a="x');
  assertWaits(b, BODY_CHUNK_SIZE);
  assert.equal(b.fwd, "");
  assert.equal(b.chn.buf.in, 6);
});

Deno.test("bodyForward() forwards chunk data as it arrives, before the chunk is complete", () => {
  const b = body("a\r\nhello");
  assertWaits(b, BODY_CHUNK_DATA);
  assert.equal(b.fwd, "a\r\nhello");
  assert.equal(b.chn.toForward, 5);
});

Deno.test("bodyForward() returns the same answer when called again without new bytes", () => {
  for (const s of ["5\r\nhel", "5\r\nhello\r\n0\r\n", "5\r\nhello\r\n0\r\n\r\n", "5\r\nhelloX"]) {
    const b = body(s);
    const again = bodyForward(b.chn, b.bs, 0, 400);
    assert.equal(again, b.r, JSON.stringify(s));
    assert.equal(b.bs.st, b.st, JSON.stringify(s));
  }
});

Deno.test("BodyState.start() forgets the previous body's totals, trailers and error", () => {
  const b = body("0\r\nX: 1\r\nbad\r\n\r\n");
  assert.equal(b.r, -1);
  assert.equal(b.bs.trailers, 1);
  chnErase(b.chn);
  b.bs.start(b.chn, BODY_CHUNK_SIZE, -1);
  assert.equal(b.bs.st, BODY_CHUNK_SIZE);
  assert.equal(b.bs.total, 0);
  assert.equal(b.bs.trailers, 0);
  assert.equal(b.bs.trailerBytes, 0);
  assert.equal(b.bs.errCode, 0);
  assert.equal(b.bs.errMsg, "");
});

Deno.test("bodyForward() reads a chunked body that wraps around the end of the ring", () => {
  const s = chunked("abcdefghij", "klmnopqrst", "uvwxyz") + "NEXT";
  // A 23-byte ring: every line and chunk crosses its end at some point.
  const bytes = bin(s);
  const b = feed(bytes, { ring: 23 }, () => 5);
  assertDone(b, s.slice(0, -4), "NEXT");
  assert.equal(b.total, 26);
});

// -- splits -----------------------------------------------------------------------------------

interface SplitCase {
  name: string;
  text: string;
  opts?: BodyOpts;
}

const SPLIT_CASES: SplitCase[] = [
  { name: "a chunked body", text: chunked("hello", "world", "!") + "NEXT" },
  {
    name: "extensions and trailers",
    text: '5;a=b;c="d\\"e"\r\nhello\r\n0;z\r\nX: 1\r\nY-Z: a b\r\n\r\nGET',
  },
  { name: "leading zeros and uppercase hex", text: "000A\r\n0123456789\r\n0\r\n\r\n" },
  { name: "a bad chunk size", text: "5\r\nhello\r\n0x10\r\n" },
  { name: "a negative chunk size", text: "-1\r\n" },
  { name: "a bare LF", text: "5\r\nhello\r\n0\n\r\n" },
  { name: "a stray CR in a size line", text: "5\r\nhello\r\n1\r2\r\n" },
  { name: "a missing CRLF after data", text: "5\r\nhelloXY0\r\n\r\n" },
  { name: "a bad trailer", text: "0\r\nX : 1\r\n\r\n" },
  { name: "an incomplete body", text: "5\r\nhello\r\n3\r\nab" },
  { name: "a body above maxBody", text: chunked("aaaa", "bbbb"), opts: { maxBody: 6 } },
  { name: "a Content-Length body", text: "0123456789rest", opts: { kind: BODY_CLEN, len: 10 } },
  { name: "a body until close", text: "0\r\n\r\nanything", opts: { kind: BODY_CLOSE } },
  {
    name: "many chunks",
    text: chunked(...Array.from({ length: 40 }, (_, i) => "x".repeat(i % 7 + 1))),
  },
];

for (const c of SPLIT_CASES) {
  Deno.test(`bodyForward() gives one result whatever the split: ${c.name}`, () => {
    const bytes = bin(c.text);
    const opts = c.opts ?? {};
    const whole = outcome(feed(bytes, opts, () => bytes.length));
    assert.deepEqual(outcome(feed(bytes, opts, () => 1)), whole, "byte by byte");
    for (let seed = 1; seed <= 8; seed++) {
      const rnd = mulberry32(seed);
      const split = outcome(feed(bytes, opts, () => 1 + Math.floor(rnd() * 12)));
      assert.deepEqual(split, whole, `random splits, seed ${seed}`);
    }
    // A small ring, so lines and chunks wrap around its end.
    const rnd = mulberry32(99);
    const small = outcome(feed(bytes, { ...opts, ring: 41 }, () => 1 + Math.floor(rnd() * 9)));
    assert.deepEqual(small, whole, "small ring");
  });
}

// A CR on the last byte a chunk-size line may hold: the byte after it is past
// the limit, so the answer must not depend on whether it has arrived yet.
Deno.test("bodyForward() gives one result whatever the split when a CR ends MAX_CHUNK_LINE", () => {
  const s = "5;x=" + "v".repeat(MAX_CHUNK_LINE - 5) + "\rZ\r\nhello\r\n0\r\n\r\n";
  assert.equal(s.indexOf("\r"), MAX_CHUNK_LINE - 1);
  const bytes = bin(s);
  const whole = brief(feed(bytes, {}, () => bytes.length));
  assert.equal(whole.r, -1);
  assert.deepEqual(brief(feed(bytes, {}, () => 1)), whole, "byte by byte");
  assert.deepEqual(brief(feed(bytes, {}, () => MAX_CHUNK_LINE)), whole, "split at the limit");
});

Deno.test("bodyForward() gives one result whatever the split when a CR ends MAX_TRAILERS", () => {
  const line = "X: " + "v".repeat(4091) + "\r\n";
  const s = "0\r\n" + line.repeat(MAX_TRAILERS / 4096 - 1) + "Y: " + "v".repeat(4092) +
    "\rZ\r\n\r\n";
  const bytes = bin(s);
  const whole = brief(feed(bytes, {}, () => bytes.length));
  assert.equal(whole.r, -1);
  assert.deepEqual(brief(feed(bytes, {}, () => 1)), whole, "byte by byte");
  assert.deepEqual(brief(feed(bytes, {}, () => s.indexOf("\rZ") + 1)), whole, "split at the CR");
});
