/**
 * parseAddress(): the address syntax shared by the CLI and the configuration.
 */
import assert from "node:assert/strict";
import { parseAddress } from "../../lib/cfg/address.ts";
import { addrFormat } from "../../lib/core/addr_types.ts";
import { SluiceError } from "../../lib/core/errors.ts";

/** Asserts that parsing fails with ERR_ADDRESS and a message matching `re`. */
function rejects(
  text: string,
  re: RegExp,
  opts: { port0?: boolean; tls?: boolean } = {},
): void {
  assert.throws(
    () => parseAddress(text, opts),
    (err: unknown) => {
      assert.ok(err instanceof SluiceError, "a SluiceError");
      assert.equal(err.code, "ERR_ADDRESS");
      assert.ok(err.message.startsWith(`Cannot parse address "${text}": `), err.message);
      assert.match(err.message, re);
      return true;
    },
    `parseAddress(${JSON.stringify(text)}) should throw`,
  );
}

Deno.test("parseAddress() reads host:port with an IPv4 literal or a host name", () => {
  assert.deepEqual(parseAddress("127.0.0.1:8080"), {
    addr: { kind: "tcp", host: "127.0.0.1", port: 8080 },
    tls: false,
  });
  assert.deepEqual(parseAddress("backend-1.example.com:443").addr, {
    kind: "tcp",
    host: "backend-1.example.com",
    port: 443,
  });
  assert.deepEqual(parseAddress("localhost:1").addr, { kind: "tcp", host: "localhost", port: 1 });
  assert.equal(parseAddress("255.255.255.255:65535").addr.kind, "tcp");
  assert.deepEqual(parseAddress("10.0.0.1:65535").addr, {
    kind: "tcp",
    host: "10.0.0.1",
    port: 65535,
  });
});

Deno.test("parseAddress() reads [v6]:port and keeps the host without brackets", () => {
  assert.deepEqual(parseAddress("[::1]:8080").addr, { kind: "tcp", host: "::1", port: 8080 });
  assert.deepEqual(parseAddress("[2001:db8::42]:443").addr, {
    kind: "tcp",
    host: "2001:db8::42",
    port: 443,
  });
  assert.deepEqual(parseAddress("[::ffff:192.0.2.1]:80").addr, {
    kind: "tcp",
    host: "::ffff:192.0.2.1",
    port: 80,
  });
  assert.deepEqual(parseAddress("[::]:9000").addr, { kind: "tcp", host: "::", port: 9000 });
});

Deno.test("parseAddress() reads :port and *:port as all IPv4 interfaces (0.0.0.0)", () => {
  assert.deepEqual(parseAddress(":8080").addr, { kind: "tcp", host: "0.0.0.0", port: 8080 });
  assert.deepEqual(parseAddress("*:8080").addr, { kind: "tcp", host: "0.0.0.0", port: 8080 });
});

Deno.test("parseAddress() reads unix:/path", () => {
  assert.deepEqual(parseAddress("unix:/run/sluice.sock"), {
    addr: { kind: "unix", path: "/run/sluice.sock" },
    tls: false,
  });
  assert.deepEqual(parseAddress("unix:relative.sock").addr, {
    kind: "unix",
    path: "relative.sock",
  });
});

Deno.test("parseAddress() accepts a unix path up to 107 bytes and rejects a longer one", () => {
  const ok = "/" + "a".repeat(106);
  assert.equal(ok.length, 107);
  assert.deepEqual(parseAddress(`unix:${ok}`).addr, { kind: "unix", path: ok });
  rejects(`unix:${ok}b`, /unix socket path longer than 107 bytes$/);
});

Deno.test("parseAddress() rejects an empty unix path or one with a NUL byte", () => {
  rejects("unix:", /empty or invalid path$/);
  rejects("unix:/tmp/a\0b", /empty or invalid path$/);
});

Deno.test("parseAddress() accepts tls:// only when allowed (servers)", () => {
  assert.deepEqual(parseAddress("tls://example.com:443", { tls: true }), {
    addr: { kind: "tcp", host: "example.com", port: 443 },
    tls: true,
  });
  assert.deepEqual(parseAddress("tls://[::1]:8443", { tls: true }).addr, {
    kind: "tcp",
    host: "::1",
    port: 8443,
  });
  assert.equal(parseAddress("example.com:443", { tls: true }).tls, false);
  rejects("tls://example.com:443", /"tls:\/\/" is only valid for servers$/);
  rejects("tls://example.com:443", /only valid for servers/, { port0: true });
});

Deno.test("parseAddress() accepts port 0 only when allowed (listeners)", () => {
  assert.deepEqual(parseAddress("127.0.0.1:0", { port0: true }).addr, {
    kind: "tcp",
    host: "127.0.0.1",
    port: 0,
  });
  assert.equal((parseAddress(":0", { port0: true }).addr as { port: number }).port, 0);
  rejects("127.0.0.1:0", /port 0 is only valid for listeners$/);
  rejects("tls://a:0", /port 0 is only valid for listeners$/, { tls: true });
});

Deno.test("parseAddress() rejects an address without a port", () => {
  rejects("localhost", /missing port \(expected host:port\)$/);
  rejects("127.0.0.1", /missing port/);
  rejects("", /missing port/);
  rejects("localhost:", /invalid port ""$/);
});

Deno.test("parseAddress() rejects a port that is not 1 to 5 digits", () => {
  rejects("localhost:http", /invalid port "http"$/);
  rejects("localhost:-1", /invalid port "-1"$/);
  rejects("localhost:+80", /invalid port "\+80"$/);
  rejects("localhost:80 ", /invalid port "80 "$/);
  rejects("localhost:123456", /invalid port "123456"$/);
  rejects("localhost:8.0", /invalid port "8\.0"$/);
});

Deno.test("parseAddress() rejects a port above 65535", () => {
  rejects("localhost:65536", /port 65536 is above 65535$/);
  rejects("[::1]:99999", /port 99999 is above 65535$/);
});

Deno.test("parseAddress() rejects malformed IPv4 literals", () => {
  rejects("1.2.3:80", /invalid IPv4 address "1\.2\.3"$/);
  rejects("256.1.1.1:80", /invalid IPv4 address "256\.1\.1\.1"$/);
  rejects("1.2.3.4.5:80", /invalid IPv4 address/);
  rejects("1..2.3:80", /invalid IPv4 address/);
  rejects("01.2.3.4:80", /invalid IPv4 address/); // no leading zeros: octal is ambiguous
  rejects("123:80", /invalid IPv4 address "123"$/);
});

Deno.test("parseAddress() rejects IPv6 literals without brackets", () => {
  rejects("::1:80", /IPv6 addresses must be in brackets$/);
  rejects("2001:db8::1:443", /must be in brackets/);
});

Deno.test("parseAddress() rejects invalid IPv6 literals in brackets", () => {
  rejects("[zz::1]:80", /invalid IPv6 address "zz::1"$/);
  rejects("[1.2.3.4]:80", /invalid IPv6 address "1\.2\.3\.4"$/);
  rejects("[1:2:3:4:5:6:7:8:9]:80", /invalid IPv6 address/);
  rejects("[]:80", /invalid IPv6 address ""$/);
  rejects("[localhost]:80", /invalid IPv6 address/);
});

Deno.test("parseAddress() rejects a bracketed address not followed by :port", () => {
  rejects("[::1]", /expected \[IPv6\]:port$/);
  rejects("[::1]80", /expected \[IPv6\]:port$/);
  rejects("[::1:80", /expected \[IPv6\]:port$/);
});

Deno.test("parseAddress() rejects invalid host names", () => {
  rejects("-bad.example:80", /invalid host name "-bad\.example"$/);
  rejects("bad_host:80", /invalid host name "bad_host"$/);
  rejects("a b:80", /invalid host name/);
  rejects(`${"a".repeat(64)}.example:80`, /invalid host name/);
  rejects("example.com/x:80", /invalid host name "example\.com\/x"$/);
  rejects("http://example.com:80", /./, {}); // a URL is no address (the message says why)
});

Deno.test("addrFormat() prints parsed addresses back in the same syntax", () => {
  for (const text of ["127.0.0.1:80", "[::1]:8080", "unix:/run/x.sock", "example.com:443"]) {
    assert.equal(addrFormat(parseAddress(text).addr), text);
  }
  assert.equal(addrFormat(parseAddress(":8080").addr), "0.0.0.0:8080");
});
