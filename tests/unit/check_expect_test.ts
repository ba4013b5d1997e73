/**
 * compileExpect(): the matches of http-check and tcp-check expect rules, on
 * hand-made bytes, and the patterns they refuse.
 */
import assert from "node:assert/strict";
import {
  compileExpect,
  expectFailText,
  hexBytes,
  statusRanges,
} from "../../lib/check/check_expect.ts";

const enc = new TextEncoder();

function found(match: "string" | "rstring" | "binary" | "rbinary", pattern: string, text: string) {
  const b = enc.encode(text);
  return compileExpect({ match, pattern }, "tcp").found(b, b.length);
}

Deno.test("string and binary find exact bytes anywhere; rstring and rbinary run a regex", () => {
  assert.equal(found("string", "+PONG", "junk\r\n+PONG\r\n"), true);
  assert.equal(found("string", "+PONG", "+PON"), false);
  assert.equal(found("binary", "2b504f4e47", "x+PONG"), true);
  assert.equal(found("binary", "2B504F4E47", "+pong"), false);
  assert.equal(found("rstring", "^role:(master|slave)", "role:slave\r\n"), true);
  assert.equal(found("rstring", "^role:master$", "x role:master"), false);
  // rbinary matches the upper-case hex dump.
  assert.equal(found("rbinary", "^2B50", "+PONG"), true);
  assert.equal(found("rbinary", "^2b50", "+PONG"), false);
});

Deno.test("status lists take codes and ranges; rstatus runs on the three digits", () => {
  const e = compileExpect({ match: "status", pattern: "200-299,302,404" }, "http");
  assert.deepEqual([200, 250, 299, 300, 302, 404, 500].map((s) => e.foundStatus(s)), [
    true,
    true,
    true,
    false,
    true,
    true,
    false,
  ]);
  assert.equal(
    compileExpect({ match: "rstatus", pattern: "^(2|3)0" }, "http").foundStatus(304),
    true,
  );
  assert.deepEqual(statusRanges("200"), [[200, 200]]);
  assert.match(statusRanges("200-") as string, /invalid status "200-"/);
  assert.match(statusRanges("200,,302") as string, /invalid status ""/);
  assert.match(statusRanges("99") as string, /invalid status "99"/);
  assert.match(statusRanges("400-300") as string, /first code is above the second/);
});

Deno.test("compileExpect() refuses what cannot run", () => {
  const bad: [Parameters<typeof compileExpect>, RegExp][] = [
    [[{ match: "status", pattern: "200" }, "tcp"], /"status" is not a match of TCP checks/],
    [[{ match: "rbinary", pattern: "00" }, "http"], /"rbinary" is not a match of HTTP checks/],
    [[{ match: "string", pattern: "" }, "tcp"], /"string" needs a pattern/],
    [[{ match: "binary", pattern: "abc" }, "tcp"], /invalid hexadecimal string "abc"/],
    [[{ match: "binary", pattern: "zz" }, "tcp"], /invalid hexadecimal string "zz"/],
    [[{ match: "rstring", pattern: "[" }, "tcp"], /invalid regular expression "\["/],
    [[{ match: "string", pattern: "x", minRecv: -2 }, "tcp"], /invalid min-recv "-2"/],
    [[{ match: "string", pattern: "x".repeat(16385) }, "tcp"], /longer than 16384/],
    [[{ match: "nope" as "string", pattern: "x" }, "tcp"], /unknown match "nope"/],
  ];
  for (const [args, re] of bad) assert.throws(() => compileExpect(...args), re);
  assert.deepEqual(hexBytes("0aFF"), Uint8Array.from([10, 255]));
});

Deno.test("expectFailText() words a failure as HAProxy's tcpcheck.c", () => {
  const t = (match: "string" | "rstring" | "binary" | "rbinary", f: boolean) =>
    expectFailText(compileExpect({ match, pattern: "41" }, "tcp"), f);
  assert.equal(t("string", false), "TCPCHK did not match content '41'");
  assert.equal(t("string", true), "TCPCHK matched unwanted content '41'");
  assert.equal(t("binary", false), "TCPCHK did not match content (binary)");
  assert.equal(t("rstring", false), "TCPCHK did not match content (regex)");
  assert.equal(t("rbinary", true), "TCPCHK matched unwanted content (binary regex)");
});
