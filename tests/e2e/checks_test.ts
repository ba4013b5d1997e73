/**
 * Health checks end to end, configured in HAProxy's syntax: `option
 * tcp-check` scripts (send, send-binary, expect string/rstring/binary and
 * `!`, connect port, comments in the failure reason), `http-check expect`
 * matches, `check-send-proxy` and the PROXY header a `send-proxy` server's
 * checks carry. The upstreams are raw-byte loopback servers, so each test
 * sees exactly what a check sent, and the verdict shows in the server's
 * state, its stats (`check_status`, `check_desc`) and the DOWN/UP log line.
 */
import assert from "node:assert/strict";
import { type SluiceHandle, startSluice } from "../../mod.ts";
import { parseConfigText } from "../../lib/cfg/cfg_parser.ts";
import {
  logInto,
  readN,
  refusedPort,
  type Upstream,
  upstream,
  waitFor,
  writeAll,
} from "../helpers/net.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

interface Proxy extends AsyncDisposable {
  handle: SluiceHandle;
  logs: string[];
  /** The last check status and detail of `server` (backend "be"). */
  check(server: string): { status: string; desc: string; state: string };
  /** Waits for the log line saying `server` is `UP` or `DOWN`, and returns it. */
  until(server: string, state: "UP" | "DOWN"): Promise<string>;
}

/** Starts sluice on a configuration file's text, its log lines captured. */
async function start(text: string): Promise<Proxy> {
  const cfg = parseConfigText(text, "checks.cfg", {});
  const logs: string[] = [];
  cfg.global = { ...cfg.global, log: { ...cfg.global?.log, target: logInto(logs) } };
  const handle = await startSluice(cfg);
  const check = (server: string) => {
    const s = handle.stats().backends.find((b) => b.name === "be")!.servers
      .find((x) => x.name === server)!;
    return { status: s.check_status, desc: s.check_desc, state: s.status };
  };
  const until = async (server: string, state: "UP" | "DOWN") => {
    const re = new RegExp(`be/${server} is ${state}`);
    await waitFor(() => logs.some((l) => re.test(l)), 5000, `${server} ${state}`);
    return logs.find((l) => re.test(l))!;
  };
  return { handle, logs, check, until, [Symbol.asyncDispose]: () => handle.close() };
}

/** A TCP backend "be" with `lines` (indented for you) in front of a frontend. */
function tcpCfg(lines: string[]): string {
  return [
    "defaults",
    "  mode tcp",
    "  timeout check 2s",
    "frontend fe",
    "  bind 127.0.0.1:0",
    "  default_backend be",
    "backend be",
    ...lines.map((l) => `  ${l}`),
  ].join("\n") + "\n";
}

/** Reads one line (to LF) or null at EOF. */
async function readLine(conn: Deno.Conn): Promise<string | null> {
  const one = new Uint8Array(1);
  let s = "";
  for (;;) {
    const n = await conn.read(one);
    if (n === null) return s === "" ? null : s;
    s += String.fromCharCode(one[0]);
    if (one[0] === 10) return s;
    if (s.length > 4096) return s;
  }
}

/** A redis-like server: PING → +PONG, info replication → `role`, QUIT → +OK and close. */
function redis(role: string, seen: string[]): Upstream {
  return upstream(async (conn) => {
    for (;;) {
      const line = await readLine(conn);
      if (line === null) return;
      seen.push(line);
      if (line === "PING\r\n") await writeAll(conn, enc.encode("+PONG\r\n"));
      else if (line === "info replication\r\n") {
        await writeAll(conn, enc.encode(`# Replication\r\nrole:${role}\r\n`));
        // A replica closes: its answer is complete, the mismatch is final.
        if (role !== "master") return;
      } else if (line === "QUIT\r\n") {
        await writeAll(conn, enc.encode("+OK\r\n"));
        return;
      }
    }
  });
}

Deno.test("tcp-check: a redis master passes the script, a replica is DOWN with the step and comment", async () => {
  const seenA: string[] = [], seenB: string[] = [];
  await using a = redis("master", seenA);
  await using b = redis("slave", seenB);
  await using p = await start(tcpCfg([
    "option tcp-check",
    "tcp-check comment PING\\ phase",
    "tcp-check send PING\\r\\n",
    "tcp-check expect string +PONG",
    "tcp-check send info\\ replication\\r\\n",
    // A comment names the rule after it (and the run of its kind).
    "tcp-check comment role\\ check",
    "tcp-check expect string role:master",
    "tcp-check send QUIT\\r\\n",
    "tcp-check expect string +OK",
    `server a ${a.address} check inter 50 rise 1 fall 1`,
    `server b ${b.address} check inter 50 rise 1 fall 1`,
  ]));
  const down = await p.until("b", "DOWN");
  assert.match(
    down,
    /reason: Layer7 invalid response, info: "TCPCHK did not match content 'role:master' at step 6 comment: role check"/,
  );
  await waitFor(() => p.check("a").status === "L7OK", 5000, "a checked");
  assert.deepEqual(p.check("a"), { status: "L7OK", desc: "(tcp-check)", state: "UP" });
  assert.equal(p.check("b").status, "L7RSP");
  // The script ran in order on one connection, QUIT included.
  assert.deepEqual(seenA.slice(0, 3), ["PING\r\n", "info replication\r\n", "QUIT\r\n"]);
  assert.deepEqual(seenB.slice(0, 2), ["PING\r\n", "info replication\r\n"]);
  assert.ok(!seenB.includes("QUIT\r\n"), "the script stops at the failed step");
  assert.equal(p.check("b").state, "DOWN");
});

Deno.test("tcp-check: a server that never answers times out at its expect step (L7TOUT)", async () => {
  await using mute = upstream(async (conn) => {
    await readN(conn, 1 << 20); // reads until the check gives up
  });
  await using p = await start(tcpCfg([
    "timeout check 200ms",
    "option tcp-check",
    "tcp-check send PING\\r\\n",
    "tcp-check expect string +PONG comment pong",
    `server s1 ${mute.address} check inter 50 rise 1 fall 1`,
  ]));
  const down = await p.until("s1", "DOWN");
  assert.match(
    down,
    /reason: Layer7 timeout, info: "no answer after 200 ms at step 2 of tcp-check \(expect string '\+PONG'\) comment: 'pong'"/,
  );
});

Deno.test("tcp-check: send-binary and expect binary, and ! string fails on unwanted content", async () => {
  const ping = Uint8Array.from([0x50, 0x49, 0x4e, 0x47, 0x0d, 0x0a]);
  await using good = upstream(async (conn) => {
    const got = await readN(conn, ping.length);
    if (got.every((x, i) => x === ping[i])) await writeAll(conn, enc.encode("+PONG\r\n"));
    await readN(conn, 1);
  });
  await using busy = upstream(async (conn) => {
    await writeAll(conn, enc.encode("-ERR loading dataset\r\n"));
    await readN(conn, 1);
  });
  await using p = await start(tcpCfg([
    "option tcp-check",
    "tcp-check send-binary 50494e470d0a",
    "tcp-check expect min-recv 4 ! string -ERR",
    "tcp-check expect binary 2b504f4e47",
    `server good ${good.address} check inter 50 rise 1 fall 1`,
    `server busy ${busy.address} check inter 50 rise 1 fall 1`,
  ]));
  const down = await p.until("busy", "DOWN");
  assert.match(down, /info: "TCPCHK matched unwanted content '-ERR' at step 2"/);
  await waitFor(() => p.check("good").status === "L7OK", 5000, "good checked");
  assert.equal(p.check("good").state, "UP");
});

Deno.test("tcp-check: connect port opens a second connection; a refused one names its step", async () => {
  const seen: string[] = [];
  await using pop = upstream(async (conn) => {
    await writeAll(conn, enc.encode("+OK POP3 ready\r\n"));
    seen.push("pop");
    await readN(conn, 1);
  });
  await using imap = upstream(async (conn) => {
    await writeAll(conn, enc.encode("* OK IMAP4 ready\r\n"));
    seen.push("imap");
    await readN(conn, 1);
  });
  const closed = refusedPort();
  await using p = await start(tcpCfg([
    "option tcp-check",
    `tcp-check connect port ${pop.port}`,
    "tcp-check expect string +OK\\ POP3\\ ready",
    `tcp-check connect port ${imap.port}`,
    "tcp-check expect rstring ^\\*\\ OK\\ IMAP4",
    `server mail 127.0.0.1:${closed} check inter 50 rise 1 fall 1`,
    "backend other",
    "  mode tcp",
    "  option tcp-check",
    "  tcp-check expect string +OK",
    `  tcp-check connect port ${closed}`,
    `  server mail2 127.0.0.1:${pop.port} check inter 50 rise 1 fall 1`,
  ]));
  await waitFor(() => p.check("mail").status === "L7OK", 5000, "mail checked");
  assert.equal(p.check("mail").state, "UP");
  assert.ok(seen.includes("pop") && seen.includes("imap"), "both ports were checked");
  const down = await waitFor(
    () => p.logs.some((l) => l.includes("other/mail2 is DOWN")),
    5000,
    "mail2 DOWN",
  ).then(() => p.logs.find((l) => l.includes("other/mail2 is DOWN"))!);
  assert.match(
    down,
    new RegExp(
      `Layer4 connection problem, info: "Connection refused at step 2 of tcp-check \\(connect port ${closed}\\)"`,
    ),
  );
});

/** An HTTP server answering every request with `status` and `body`, then closing. */
function http(status: string, body: string): Upstream {
  return upstream(async (conn) => {
    const buf = new Uint8Array(4096);
    let head = "";
    while (!head.includes("\r\n\r\n")) {
      const n = await conn.read(buf);
      if (n === null) return;
      head += dec.decode(buf.subarray(0, n));
    }
    await writeAll(
      conn,
      enc.encode(`HTTP/1.1 ${status}\r\nContent-Length: ${body.length}\r\n\r\n${body}`),
    );
  });
}

/** An HTTP backend "be" checking with `expect` one server per entry of `servers`. */
function httpCfg(expect: string, servers: Upstream[]): string {
  return [
    "defaults",
    "  mode http",
    "  timeout check 2s",
    "frontend fe",
    "  bind 127.0.0.1:0",
    "  default_backend be",
    "backend be",
    "  option httpchk GET /health",
    `  http-check expect ${expect}`,
    ...servers.map((s, i) => `  server s${i + 1} ${s.address} check inter 50 rise 1 fall 1`),
  ].join("\n") + "\n";
}

Deno.test("http-check expect ! status, rstatus, string and rstring decide alone", async () => {
  await using ok = http("200 OK", "status: ready");
  await using err = http("503 Service Unavailable", "status: draining");
  await using odd = http("404 Not Found", "status: ready");
  // ! status 500-599: a 404 passes, a 503 fails.
  {
    await using p = await start(httpCfg("! status 500-599", [ok, err, odd]));
    assert.match(await p.until("s2", "DOWN"), /Layer7 wrong status, code: 503/);
    await waitFor(() => p.check("s3").status === "L7OK", 5000, "s3 checked");
    assert.equal(p.check("s1").state, "UP");
  }
  // rstatus ^(200|404)$
  {
    await using p = await start(httpCfg("rstatus ^(200|404)$", [ok, err, odd]));
    await p.until("s2", "DOWN");
    await waitFor(() => p.check("s3").status === "L7OK", 5000, "s3 checked");
  }
  // string: only the body counts (a 503 whose body holds it passes, as HAProxy).
  {
    await using p = await start(httpCfg("string status:", [ok, err]));
    await waitFor(() => p.check("s2").status === "L7OK", 5000, "s2 checked");
    assert.equal(p.check("s2").state, "UP");
  }
  // ! rstring drain: the draining server fails.
  {
    await using p = await start(httpCfg("! rstring drain(ing)?", [ok, err]));
    assert.match(
      await p.until("s2", "DOWN"),
      /Layer7 invalid response, code: 503, info: "unwanted regex 'drain\(ing\)\?' found"/,
    );
    assert.equal(p.check("s1").state, "UP");
  }
});

/** An HTTP check server that answers 200 only after a PROXY header; what it read first goes in `first`. */
function proxyAware(first: Uint8Array[]): Upstream {
  return upstream(async (conn) => {
    const head = await readN(conn, 16);
    first.push(head);
    const text = dec.decode(head);
    const v1 = text.startsWith("PROXY UNKNOWN\r\n");
    const v2 = head[12] === 0x20; // signature then version 2, LOCAL
    const buf = new Uint8Array(4096);
    let rest = text;
    while (!rest.includes("\r\n\r\n")) {
      const n = await conn.read(buf);
      if (n === null) return;
      rest += dec.decode(buf.subarray(0, n));
    }
    const status = v1 || v2 ? "200 OK" : "400 Bad Request";
    await writeAll(conn, enc.encode(`HTTP/1.1 ${status}\r\nContent-Length: 0\r\n\r\n`));
  });
}

Deno.test("check-send-proxy, and the PROXY header a send-proxy server's checks carry", async () => {
  const f1: Uint8Array[] = [], f2: Uint8Array[] = [], f3: Uint8Array[] = [];
  await using s1 = proxyAware(f1);
  await using s2 = proxyAware(f2);
  await using s3 = proxyAware(f3);
  await using p = await start(
    [
      "defaults",
      "  mode http",
      "frontend fe",
      "  bind 127.0.0.1:0",
      "  default_backend be",
      "backend be",
      "  option httpchk GET /",
      `  server s1 ${s1.address} check inter 50 rise 1 fall 1 check-send-proxy`,
      `  server s2 ${s2.address} check inter 50 rise 1 fall 1 send-proxy-v2`,
      `  server s3 ${s3.address} check inter 50 rise 1 fall 1`,
    ].join("\n") + "\n",
  );
  await waitFor(() => f1.length > 0 && f2.length > 0 && f3.length > 0, 5000, "three checks");
  await waitFor(() => p.check("s1").status !== "INI" && p.check("s3").status !== "INI", 5000);
  assert.equal(dec.decode(f1[0]).slice(0, 15), "PROXY UNKNOWN\r\n");
  assert.deepEqual([...f2[0].subarray(12, 16)], [0x20, 0x00, 0x00, 0x00], "v2 LOCAL, no address");
  assert.ok(dec.decode(f3[0]).startsWith("GET / HTTP/1.1"), "no header without the options");
  await waitFor(() => p.check("s2").status === "L7OK", 5000, "s2 checked");
  assert.equal(p.check("s1").status, "L7OK");
  assert.equal((await p.until("s3", "DOWN")).includes("code: 400"), true);
});

Deno.test("agent-check: the agent's line sets weight, drain, down with its reason, and up again", async () => {
  let reply = "75%\n";
  const asked: string[] = [];
  await using agent = upstream(async (conn) => {
    asked.push(dec.decode(await readN(conn, 6)));
    await writeAll(conn, enc.encode(reply));
  });
  await using app = upstream(async (conn) => {
    await readN(conn, 1);
  });
  await using p = await start(tcpCfg([
    `server s1 ${app.address} weight 20 check inter 50 agent-check agent-port ${agent.port}` +
    " agent-inter 50 agent-send hello\\n",
    `server s2 ${app.address}`,
  ]));
  const srv = () =>
    p.handle.stats().backends.find((b) => b.name === "be")!.servers.find((s) => s.name === "s1")!;
  await waitFor(() => srv().weight === 15, 5000, "weight 75% of 20");
  assert.equal(asked[0], "hello\n", "agent-send is sent first");
  reply = "drain\n";
  await waitFor(() => srv().status === "DRAIN", 5000, "drain");
  reply = "ready down # maintenance window\n";
  const down = await p.until("s1", "DOWN");
  assert.match(
    down,
    /reason: Layer7 wrong status, info: "via agent : down \(maintenance window\)"/,
  );
  assert.equal(p.check("s1").state, "DOWN");
  reply = "up 100%\n";
  assert.match(await p.until("s1", "UP"), /info: "via agent : up"/);
  await waitFor(() => srv().weight === 20, 5000, "weight 100%");
  // An agent that stops answering changes nothing.
  await agent.close();
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(p.check("s1").state, "UP");
});
