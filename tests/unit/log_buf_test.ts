/**
 * LogBuf, the byte writer access log lines are formatted into: numbers,
 * text, dates and the quoted request line must come out exactly as the
 * string formatters wrote them.
 */
import assert from "node:assert/strict";
import { LogBuf } from "../../lib/log/log_buf.ts";
import { logDate, logDateInto } from "../../lib/log/logdate.ts";
import { LogSink } from "../../lib/log/sink.ts";

const dec = new TextDecoder();

function text(f: (b: LogBuf) => void): string {
  const b = new LogBuf(4, 1 << 20);
  f(b);
  return dec.decode(b.a.subarray(0, b.n));
}

Deno.test("LogBuf.int() writes integers as String() does, signs and powers of ten included", () => {
  for (const v of [0, 7, 9, 10, 99, 100, 12345, 4294967296, -1, -10, -987654, 999999999999999]) {
    assert.equal(text((b) => b.int(v)), String(v));
  }
});

Deno.test("LogBuf.str() writes ASCII byte by byte and anything else as UTF-8", () => {
  assert.equal(text((b) => b.str("fe_main")), "fe_main");
  assert.equal(text((b) => b.str("a<NOSRV>é→😀z")), "a<NOSRV>é→😀z");
});

Deno.test("LogBuf.jsonLatin1() writes what JSON.stringify() of the Latin-1 text gives, UTF-8 encoded", () => {
  const all = Uint8Array.from({ length: 256 }, (_, i) => i);
  const want = JSON.stringify(String.fromCharCode(...all));
  assert.equal(text((b) => b.jsonLatin1(all, 0, 256)), want);
  const line = new TextEncoder().encode('GET /a?b="c"\\d HTTP/1.1');
  assert.equal(
    text((b) => b.jsonLatin1(line, 0, line.length)),
    JSON.stringify('GET /a?b="c"\\d HTTP/1.1'),
  );
});

Deno.test("LogBuf grows up to its maximum, then marks itself over and stops", () => {
  const b = new LogBuf(4, 10);
  b.str("0123456789");
  assert.equal(b.n, 10);
  assert.equal(b.over, false);
  b.ch(0x41);
  assert.equal(b.over, true);
  assert.equal(b.n, 10);
});

Deno.test("logDateInto() writes logDate() bytes, across seconds and fractional milliseconds", () => {
  const base = Date.UTC(2026, 10, 22, 7, 40, 15, 0);
  for (
    const ms of [base, base + 1, base + 999, base + 999.7, base + 1000, base + 61_042, base - 1]
  ) {
    assert.equal(text((b) => logDateInto(b, ms)), logDate(ms));
  }
});

Deno.test("LogSink formats lines into one batch per turn for files, in order, events included", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/access.log`;
    const sink = new LogSink({ file: path }, 1 << 20);
    for (let i = 0; i < 100; i++) {
      const out = sink.begin()!;
      out.str("line ");
      out.int(i);
      sink.end();
      if (i === 50) sink.write("[NOTICE] event");
    }
    await sink.close();
    const lines = (await Deno.readTextFile(path)).split("\n");
    assert.equal(lines.length, 102);
    assert.equal(lines[0], "line 0");
    assert.equal(lines[51], "[NOTICE] event");
    assert.equal(lines[100], "line 99");
    assert.equal(lines[101], "");
    assert.equal(sink.lines, 101);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("LogSink drops (and counts) lines beyond its byte budget while a write is in flight", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/access.log`;
    const sink = new LogSink({ file: path }, 100);
    for (let i = 0; i < 20; i++) sink.write(`line number ${i}`);
    await sink.close();
    const lines = (await Deno.readTextFile(path)).split("\n").filter((l) => l !== "");
    assert.ok(lines.length < 20);
    assert.equal(sink.lines + sink.dropped, 20);
    assert.equal(lines.length, sink.lines);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
