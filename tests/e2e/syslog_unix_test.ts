/**
 * Access logs to a local syslog socket (HAProxy's `log /dev/log local0`):
 * a unix datagram receiver stands in for the daemon and sees the exact
 * RFC 5424 bytes, from the library, from a configuration file and from the
 * command line (which also shows that deno.json's unstable net flag
 * reaches `deno run main.ts`).
 */
import assert from "node:assert/strict";
import { startSluice } from "../../mod.ts";
import { hostName } from "../../lib/log/sink.ts";
import { runCli } from "../helpers/cli.ts";
import { farm, request } from "../helpers/http_farm.ts";
import { echoScript, readN, upstream, waitFor, writeAll } from "../helpers/net.ts";
import { type UnixDgramReceiver, unixDgramReceiver } from "../helpers/unix_dgram.ts";

const DEC = new TextDecoder();
const ENC = new TextEncoder();

/** Asserts `bytes` is `<pri>1 TIMESTAMP host sluice pid - - …` ending with `tail`; returns the line. */
function assertFrame(bytes: Uint8Array, head: { pri: number; host: string; pid: number }): string {
  const text = DEC.decode(bytes);
  const m = /^<\d+>1 (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) /.exec(text);
  assert.ok(m !== null, text);
  const prefix = `<${head.pri}>1 ${m[1]} ${head.host} sluice ${head.pid} - - `;
  assert.ok(text.startsWith(prefix), `expected "${prefix}…", got "${text}"`);
  assert.ok(!text.endsWith("\n"), "one line per datagram, no newline");
  assert.deepEqual(bytes, ENC.encode(text));
  return text.slice(prefix.length);
}

/**
 * The access lines received so far, every datagram checked by assertFrame();
 * event lines (`[NOTICE] …`, severity notice: `pri - 1`) are checked and left out.
 */
function accessLines(
  rx: UnixDgramReceiver,
  head: { pri: number; host: string; pid: number },
): string[] {
  return rx.got.filter((d) => {
    if (!DEC.decode(d.bytes).includes(" - - [NOTICE] ")) return true;
    assertFrame(d.bytes, { ...head, pri: head.pri - 1 });
    return false;
  }).map((d) => assertFrame(d.bytes, head));
}

Deno.test('startSluice() with { syslog: "unix:PATH" } sends each httplog line as one RFC 5424 datagram', async () => {
  await using f = farm(1);
  const dir = Deno.makeTempDirSync();
  try {
    await using rx = unixDgramReceiver(`${dir}/log.sock`);
    // local1 (17) * 8 + info (6) = 142.
    const head = { pri: 142, host: hostName(), pid: Deno.pid };
    {
      await using h = await startSluice({
        global: {
          log: { target: { syslog: `unix:${rx.path}`, facility: "local1" }, format: "httplog" },
        },
        frontends: [{ name: "fe", binds: [{ address: "127.0.0.1:0" }], defaultBackend: "be" }],
        backends: [{ name: "be", servers: [{ name: "s1", address: f[0].address }] }],
      });
      await request(h.addresses[0].port, "/one");
      await request(h.addresses[0].port, "/two");
      await waitFor(() => accessLines(rx, head).length === 2);
      assert.equal(h.stats().log.dropped, 0);
    }
    const lines = accessLines(rx, head);
    assert.equal(lines.length, 2);
    assert.match(lines[0], /^127\.0\.0\.1:\d+ \[[^\]]+\] fe be\/s1 .* "GET \/one HTTP\/1\.1"$/);
    assert.match(lines[1], /"GET \/two HTTP\/1\.1"$/);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

for (
  const [how, args] of [
    [
      "a configuration file's log unix@PATH format rfc5424 local2",
      (sock: string, cfg: string, up: string) => {
        Deno.writeTextFileSync(
          cfg,
          [
            "global",
            `    log unix@${sock} format rfc5424 local2`,
            "defaults",
            "    mode tcp",
            "    log global",
            "listen echo",
            "    bind 127.0.0.1:0",
            `    server s1 ${up}`,
          ].join("\n") + "\n",
        );
        return ["-f", cfg];
      },
    ],
    ["--log syslog:PATH", (sock: string) => ["--mode", "tcp", "--log", `syslog:${sock}`]],
  ] as const
) {
  Deno.test(`cli with ${how} logs each connection to the unix socket`, async () => {
    await using up = upstream(echoScript);
    const dir = Deno.makeTempDirSync();
    try {
      await using rx = unixDgramReceiver(`${dir}/log.sock`);
      const flags = args(rx.path, `${dir}/s.cfg`, up.address);
      const extra = flags[0] === "-f" ? [] : ["--listen", "127.0.0.1:0", "--server", up.address];
      await using p = runCli([...flags, ...extra]);
      const port = Number(/127\.0\.0\.1:(\d+)/.exec(await p.waitLine(/ready/))![1]);
      const conn = await Deno.connect({ port });
      await writeAll(conn, ENC.encode("ping"));
      assert.equal(DEC.decode(await readN(conn, 4)), "ping");
      conn.close();
      // local2 (18) or local0 (16), the default: * 8 + info (6). The child
      // has no --allow-sys, so its host name is RFC 5424's nil "-".
      const pri = flags[0] === "-f" ? 150 : 134;
      const head = { pri, host: "-", pid: p.child.pid };
      await waitFor(() => accessLines(rx, head).length === 1);
      p.kill("SIGTERM");
      assert.equal(await p.exited, 0);
      assert.equal(p.err.join("\n"), "");
      assert.match(
        accessLines(rx, head)[0],
        /^127\.0\.0\.1:\d+ \[[^\]]+\] \S+ \S+\/\S+ [\d/]+ 4 -- /,
      );
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  });
}
