/**
 * cfgLex() / cfgLexLine(): HAProxy's line syntax — words, comments, quotes,
 * escapes, environment variables — and errors at file:line.
 */
import assert from "node:assert/strict";
import { cfgLex, cfgLexLine } from "../../lib/cfg/cfg_lexer.ts";
import { SluiceError } from "../../lib/core/errors.ts";

/** The words of one line. */
function words(text: string, env: Record<string, string | undefined> = {}): string[] {
  return cfgLexLine(text, "t.cfg:1", env);
}

/** Asserts that lexing `text` fails at `where` with a message matching `re`. */
function rejects(text: string, where: string, re: RegExp, env: Record<string, string> = {}): void {
  assert.throws(
    () => cfgLex(text, "t.cfg", env),
    (err: unknown) => {
      assert.ok(err instanceof SluiceError, `a SluiceError, got ${err}`);
      assert.equal(err.code, "ERR_CONFIG");
      assert.equal(err.where, where);
      assert.ok(err.message.startsWith(`${where}: `), err.message);
      assert.match(err.message, re);
      assert.ok(!err.message.includes("\n"), "one line");
      return true;
    },
    `cfgLex(${JSON.stringify(text)}) should throw`,
  );
}

Deno.test("cfgLex() numbers lines from 1 and skips empty and comment-only lines", () => {
  const text = "global\n\n  # a comment\n\tmaxconn   100\n   \nfrontend fe # trailing\n";
  assert.deepEqual(cfgLex(text, "a.cfg", {}), [
    { file: "a.cfg", line: 1, where: "a.cfg:1", words: ["global"] },
    { file: "a.cfg", line: 4, where: "a.cfg:4", words: ["maxconn", "100"] },
    { file: "a.cfg", line: 6, where: "a.cfg:6", words: ["frontend", "fe"] },
  ]);
});

Deno.test("cfgLex() accepts CRLF line endings", () => {
  const lines = cfgLex("global\r\n  maxconn 10\r\n", "a.cfg", {});
  assert.deepEqual(lines.map((l) => l.words), [["global"], ["maxconn", "10"]]);
});

Deno.test("cfgLexLine() splits words on any run of spaces and tabs", () => {
  assert.deepEqual(words("  server\t s1 \t\t 10.0.0.1:80   check  "), [
    "server",
    "s1",
    "10.0.0.1:80",
    "check",
  ]);
  assert.deepEqual(words(""), []);
  assert.deepEqual(words(" \t "), []);
});

Deno.test("cfgLexLine() starts a comment at # outside quotes only", () => {
  assert.deepEqual(words("option httpchk GET /#frag"), ["option", "httpchk", "GET", "/"]);
  assert.deepEqual(words('http-check expect string "a # b" # c'), [
    "http-check",
    "expect",
    "string",
    "a # b",
  ]);
  assert.deepEqual(words("x 'a#b'"), ["x", "a#b"]);
  assert.deepEqual(words("x a\\#b"), ["x", "a#b"]);
  assert.deepEqual(words("# only a comment"), []);
});

Deno.test("cfgLexLine() groups words with double quotes and joins adjacent parts", () => {
  assert.deepEqual(words('attr "Path=/; HttpOnly"'), ["attr", "Path=/; HttpOnly"]);
  assert.deepEqual(words('a"b c"d e'), ["ab cd", "e"]);
  assert.deepEqual(words(`x "" y`), ["x", "", "y"]);
  assert.deepEqual(words(`x ''`), ["x", ""]);
  assert.deepEqual(words(`"it's"`), ["it's"]);
});

Deno.test("cfgLexLine() decodes escapes inside double quotes", () => {
  assert.deepEqual(words('"a\\"b"'), ['a"b']);
  assert.deepEqual(words('"a\\\\b"'), ["a\\b"]);
  assert.deepEqual(words('"1\\n2\\t3\\r4"'), ["1\n2\t3\r4"]);
  assert.deepEqual(words('"\\x41\\x7a"'), ["Az"]);
  assert.deepEqual(words('"\\$HOME"'), ["$HOME"]);
  assert.deepEqual(words('"\\\'"'), ["'"]);
  // Not an escape sequence: the backslash stays (regexes keep working).
  assert.deepEqual(words('"^/\\d+\\$"'), ["^/\\d+$"]);
  assert.deepEqual(words("rstatus ^2\\d\\d"), ["rstatus", "^2\\d\\d"]);
  // A trailing backslash is kept.
  assert.deepEqual(words("a\\"), ["a\\"]);
});

Deno.test("cfgLexLine() lets a backslash escape a space or a quote outside quotes", () => {
  assert.deepEqual(words("Host:\\ www.example.com"), ["Host: www.example.com"]);
  assert.deepEqual(words('say \\"hi\\"'), ["say", '"hi"']);
  assert.deepEqual(words("it\\'s"), ["it's"]);
  assert.deepEqual(words("a\\\\ b"), ["a\\", "b"]);
  // The old httpchk version hack: escapes outside quotes too.
  assert.deepEqual(words("HTTP/1.1\\r\\nHost:\\ x"), ["HTTP/1.1\r\nHost: x"]);
});

Deno.test("cfgLexLine() keeps single-quoted text literal: no escapes, no variables", () => {
  assert.deepEqual(words("'a\\nb'"), ["a\\nb"]);
  assert.deepEqual(words("'${HOME}' '$X'", { HOME: "/root", X: "x" }), ["${HOME}", "$X"]);
  assert.deepEqual(words(`'say "hi"'`), ['say "hi"']);
});

Deno.test("cfgLexLine() expands environment variables in double quotes", () => {
  const env = { HOST: "10.0.0.1", PORT: "8080", EMPTY: "", SPACED: "a b" };
  assert.deepEqual(words('bind "${HOST}:${PORT}"', env), ["bind", "10.0.0.1:8080"]);
  assert.deepEqual(words('"$HOST:$PORT"', env), ["10.0.0.1:8080"]);
  assert.deepEqual(words('"${MISSING-127.0.0.1}:${PORT}"', env), ["127.0.0.1:8080"]);
  assert.deepEqual(words('"${HOST-unused}"', env), ["10.0.0.1"]);
  assert.deepEqual(words('"${MISSING-}x"', env), ["x"]);
  assert.deepEqual(words('"${EMPTY}"', env), [""]);
  // A value with spaces never splits into words.
  assert.deepEqual(words('x "${SPACED}"', env), ["x", "a b"]);
});

Deno.test("cfgLexLine() expands ${NAME} outside quotes too, but not a lone $", () => {
  const env = { HOST: "10.0.0.1", SPACED: "a b", EMPTY: "" };
  assert.deepEqual(words("server s1 ${HOST}:80", env), ["server", "s1", "10.0.0.1:80"]);
  assert.deepEqual(words("x ${SPACED}", env), ["x", "a b"]);
  assert.deepEqual(words("x ${MISSING-d}", env), ["x", "d"]);
  // Like a shell: an empty unquoted expansion makes no word by itself.
  assert.deepEqual(words("x ${EMPTY} y", env), ["x", "y"]);
  assert.deepEqual(words("x a${EMPTY}", env), ["x", "a"]);
  assert.deepEqual(words("^/api$ $HOST \\${HOST}", env), ["^/api$", "$HOST", "${HOST}"]);
});

Deno.test("cfgLex() refuses an undefined environment variable, naming it", () => {
  rejects(
    'global\n  log "${LOG_TARGET}"',
    "t.cfg:2",
    /undefined environment variable "LOG_TARGET"/,
  );
  rejects("bind ${PORT}", "t.cfg:1", /undefined environment variable "PORT"/);
  rejects('bind "$PORT"', "t.cfg:1", /undefined environment variable "PORT"/);
  // undefined values count as missing
  assert.throws(() => cfgLexLine('"${X}"', "t.cfg:1", { X: undefined }), /"X"/);
});

Deno.test("cfgLex() refuses malformed variables", () => {
  rejects(
    '"$1"',
    "t.cfg:1",
    /"\$" must be followed by a variable name \(write \\\$ for a literal "\$"\)/,
  );
  rejects('"a$"', "t.cfg:1", /"\$" must be followed by a variable name/);
  rejects('"${1}"', "t.cfg:1", /"\$\{" must be followed by a variable name/);
  rejects('"${HOST"', "t.cfg:1", /missing "}" after "\${HOST"/, { HOST: "h" });
  rejects('"${HOST-x"', "t.cfg:1", /missing "}"/, { HOST: "h" });
  rejects('"${LIST[*]}"', "t.cfg:1", /word expansion "\${LIST\[...\]}" is not supported/);
});

Deno.test("cfgLex() refuses unterminated quotes", () => {
  rejects('global\nfrontend "fe', "t.cfg:2", /unterminated double quote/);
  rejects("a 'b", "t.cfg:1", /unterminated single quote/);
  rejects('a "b # c', "t.cfg:1", /unterminated double quote/);
});

Deno.test("cfgLex() refuses NUL bytes, stray CRs and bad hex escapes", () => {
  rejects("global\nmaxconn 1\0", "t.cfg:2", /NUL byte/);
  rejects("global\rmaxconn 1", "t.cfg:1", /CR not followed by LF/);
  rejects('"\\x4"', "t.cfg:1", /invalid escape "\\x4"": expected two hex digits/);
  rejects("\\xZZ", "t.cfg:1", /invalid escape "\\xZZ"/);
});
