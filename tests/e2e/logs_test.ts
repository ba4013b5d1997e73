/**
 * Logs as HAProxy writes them, from configuration files, over loopback:
 * several targets with their header formats and levels, `log global` and a
 * proxy's own targets, `option dontlognull`, `log-format`, header captures,
 * unique ids, `option log-separate-errors` and `option log-health-checks`.
 * Targets are files (`file@PATH`), read once sluice has stopped (closing
 * writes every queued line).
 */
import assert from "node:assert/strict";
import { startSluice } from "../../mod.ts";
import { exchange } from "../helpers/http.ts";
import { modelUpstream } from "../helpers/http.ts";
import { request } from "../helpers/http_farm.ts";
import { echoScript, readN, refusedPort, upstream, waitFor, writeAll } from "../helpers/net.ts";
import { withTempDir } from "../helpers/temp_dir.ts";

const ENC = new TextEncoder();
const DEC = new TextDecoder();

/** Lines of a log file (none when it was never written). */
function lines(file: string): string[] {
  try {
    return Deno.readTextFileSync(file).split("\n").filter((l) => l !== "");
  } catch {
    return [];
  }
}

/** Access lines: everything but events (`[NOTICE] ...` after any header). */
function access(file: string): string[] {
  return lines(file).filter((l) => !/\[(NOTICE|WARNING|ALERT)\] /.test(l));
}

/** Starts sluice on `cfg` (written in `dir`), runs `fn` with its first port, stops it. */
async function withCfg(dir: string, cfg: string[], fn: (port: number) => Promise<void>) {
  const file = `${dir}/sluice.cfg`;
  Deno.writeTextFileSync(file, cfg.join("\n") + "\n");
  const h = await startSluice({ configFile: file });
  try {
    await fn(h.addresses[0].port);
  } finally {
    await h.close();
  }
}

Deno.test("log: each line goes to the targets whose level takes it, with each target's header and length", async () => {
  await using up = modelUpstream();
  await withTempDir(async (dir) => {
    await withCfg(dir, [
      "global",
      `    log file@${dir}/raw.log format raw local0`,
      `    log file@${dir}/notice.log format short local1 notice`,
      `    log file@${dir}/local.log local2 info`,
      `    log file@${dir}/5424.log len 80 format rfc5424 local3`,
      `    log file@${dir}/prio.log format priority local4 emerg`,
      "defaults",
      "    mode http",
      "    log global",
      "    option httplog",
      "frontend fe",
      "    bind 127.0.0.1:0",
      "    default_backend be",
      "backend be",
      `    server s1 ${up.address}`,
    ], async (port) => {
      assert.equal(
        (await request(port, "/a-rather-long-path-to-be-cut-by-the-len-of-the-target")).status,
        200,
      );
    });
    // raw: the httplog line alone, and the start-up event.
    const raw = lines(`${dir}/raw.log`);
    assert.match(raw[0], /^\[NOTICE\] configuration loaded: /);
    assert.match(
      raw[1],
      /^127\.0\.0\.1:\d+ \[[^\]]+\] fe be\/s1 \d+\/\d+\/\d+\/\d+\/\d+ 200 \d+ - - ---- /,
    );
    assert.equal(raw.length, 2);
    // notice and more severe only: the event, not the access line (info); "<5>" is notice.
    assert.deepEqual(lines(`${dir}/notice.log`).map((l) => l.slice(0, 25)), [
      "<5>[NOTICE] configuration",
    ]);
    // HAProxy's default "local" header: <PRI>date tag[pid]: (local2 = 18: 18*8+6 = 150).
    const local = access(`${dir}/local.log`);
    assert.equal(local.length, 1);
    assert.match(
      local[0],
      new RegExp(
        `^<150>[A-Z][a-z]{2} [ \\d]\\d \\d\\d:\\d\\d:\\d\\d sluice\\[${Deno.pid}\\]: 127\\.0\\.0\\.1:`,
      ),
    );
    // rfc5424, cut at 80 bytes header included (local3 = 19: 158).
    const r5424 = access(`${dir}/5424.log`);
    assert.match(
      r5424[0],
      /^<158>1 \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \S+ sluice \d+ - - 127\.0\.0\.1:/,
    );
    assert.equal(ENC.encode(r5424[0]).length, 80);
    // Level emerg: nothing sluice writes is that severe.
    assert.deepEqual(lines(`${dir}/prio.log`), []);
  });
});

Deno.test("log: a frontend without log lines logs nothing; a proxy's own lines add to log global; no log starts afresh", async () => {
  await using up = modelUpstream();
  await withTempDir(async (dir) => {
    const file = `${dir}/sluice.cfg`;
    Deno.writeTextFileSync(
      file,
      [
        "global",
        `    log file@${dir}/global.log format raw local0`,
        "defaults",
        "    mode http",
        "    log global",
        "frontend own",
        "    bind 127.0.0.1:0",
        `    log file@${dir}/own.log format raw local0`,
        "    default_backend be",
        "frontend none",
        "    bind 127.0.0.1:0",
        "    no log",
        "    option httplog",
        "    default_backend be",
        "frontend only",
        "    bind 127.0.0.1:0",
        "    no log",
        `    log file@${dir}/only.log format raw local0`,
        "    default_backend be",
        "backend be",
        `    server s1 ${up.address}`,
      ].join("\n") + "\n",
    );
    const h = await startSluice({ configFile: file });
    try {
      const [own, none, only] = h.addresses.map((a) => a.port);
      await request(own, "/own");
      await request(none, "/none");
      await request(only, "/only");
    } finally {
      await h.close();
    }
    const paths = (f: string) => access(f).map((l) => /"GET (\S+)/.exec(l)![1]);
    assert.deepEqual(paths(`${dir}/global.log`), ["/own"]);
    assert.deepEqual(paths(`${dir}/own.log`), ["/own"]);
    assert.deepEqual(paths(`${dir}/only.log`), ["/only"]);
  });
});

Deno.test("option dontlognull: HTTP and TCP connections that sent nothing are not logged; without it HTTP logs <BADREQ> CR", async () => {
  await using up = modelUpstream();
  await using echo = upstream(echoScript);
  await withTempDir(async (dir) => {
    const file = `${dir}/sluice.cfg`;
    Deno.writeTextFileSync(
      file,
      [
        "global",
        `    log file@${dir}/a.log format raw local0`,
        "defaults",
        "    log global",
        "frontend quiet",
        "    mode http",
        "    bind 127.0.0.1:0",
        "    option dontlognull",
        "    default_backend be",
        "frontend loud",
        "    mode http",
        "    bind 127.0.0.1:0",
        "    default_backend be",
        "listen tcp",
        "    mode tcp",
        "    bind 127.0.0.1:0",
        "    option dontlognull",
        `    server e1 ${echo.address}`,
        "backend be",
        "    mode http",
        `    server s1 ${up.address}`,
      ].join("\n") + "\n",
    );
    const h = await startSluice({ configFile: file });
    try {
      const [quiet, loud, tcp] = h.addresses.map((a) => a.port);
      for (const port of [quiet, loud, tcp]) {
        const c = await Deno.connect({ hostname: "127.0.0.1", port });
        c.close();
      }
      await request(quiet, "/q");
      const c = await Deno.connect({ hostname: "127.0.0.1", port: tcp });
      await writeAll(c, ENC.encode("ping"));
      assert.equal(DEC.decode(await readN(c, 4)), "ping");
      c.close();
      await waitFor(() => access(`${dir}/a.log`).length === 3, 5000, "three access lines");
    } finally {
      await h.close();
    }
    const got = access(`${dir}/a.log`).map((l) => l.split(" ").slice(2, 4).join(" "));
    assert.deepEqual(got.sort(), ["loud be/<NOSRV>", "quiet be/s1", "tcp tcp/e1"].sort());
    const bad = access(`${dir}/a.log`).find((l) => l.includes(" loud "))!;
    assert.match(bad, / -1\/-1\/-1\/-1\/\d+ 400 0 - - CR-- .* "<BADREQ>"$/);
  });
});

Deno.test("log-format: HAProxy variables, flags and %[fetch] samples taken after the request rules", async () => {
  await using up = modelUpstream();
  await withTempDir(async (dir) => {
    await withCfg(dir, [
      "global",
      `    log file@${dir}/a.log format raw local0`,
      "frontend fe",
      "    mode http",
      "    log global",
      "    bind 127.0.0.1:0",
      "    http-request set-var(txn.who) str(alice)",
      String
        .raw`    log-format "%{+Q}o %ci %f %b/%s %ST %HM %HP %HQ %HV %{-Q}[req.hdr(host)] %[var(txn.who)] %[res.hdr(content-length)] %{+X}fp %{+Q}r 100%%"`,
      "    default_backend be",
      "backend be",
      "    mode http",
      `    server s1 ${up.address}`,
    ], async (port) => {
      await request(port, "/p/a?x=1", { Host: "example.com" });
    });
    const l = access(`${dir}/a.log`);
    assert.equal(l.length, 1);
    assert.match(
      l[0],
      /^"127\.0\.0\.1" "fe" "be"\/"s1" 200 "GET" "\/p\/a" "\?x=1" "HTTP\/1\.1" example\.com "alice" "8" /,
    );
    assert.match(l[0], / [0-9A-F]{4} "GET \/p\/a\?x=1 HTTP\/1\.1" 100%$/);
  });
});

Deno.test("capture request/response header: values in braces in the httplog line, last value, cut to len", async () => {
  await using up = modelUpstream((req) => {
    const body = "ok";
    void req;
    return `HTTP/1.1 200 OK\r\nContent-Type: text/plain|x\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
  });
  await withTempDir(async (dir) => {
    await withCfg(dir, [
      "global",
      `    log file@${dir}/a.log format raw local0`,
      "defaults",
      "    mode http",
      "    log global",
      "    option httplog",
      "frontend fe",
      "    bind 127.0.0.1:0",
      "    capture request header Host len 7",
      "    capture request header X-Missing len 10",
      "    capture request header User-Agent len 20",
      "    capture response header Content-Type len 40",
      "    default_backend be",
      "backend be",
      `    server s1 ${up.address}`,
    ], async (port) => {
      const r = await exchange(
        port,
        "GET /c HTTP/1.1\r\nHost: example.com\r\nUser-Agent: first\r\nUser-Agent: curl/8 {x}\r\nConnection: close\r\n\r\n",
      );
      assert.match(r.text, /^HTTP\/1\.1 200 /);
    });
    const l = access(`${dir}/a.log`);
    assert.equal(l.length, 1);
    assert.match(
      l[0],
      / 0\/0 \{example\|\|curl\/8 #7Bx#7D\} \{text\/plain#7Cx\} "GET \/c HTTP\/1\.1"$/,
    );
  });
});

Deno.test("unique-id-format and unique-id-header: the server gets the id, the log shows it, rules read it", async () => {
  await using up = modelUpstream();
  await withTempDir(async (dir) => {
    await withCfg(dir, [
      "global",
      `    log file@${dir}/a.log format raw local0`,
      "frontend fe",
      "    mode http",
      "    log global",
      "    bind 127.0.0.1:0",
      String.raw`    unique-id-format %{+X}o\ %ci:%cp_%fi:%fp_%rt:%pid`,
      "    unique-id-header X-Unique-ID",
      "    http-request set-header X-Copy %[unique-id]",
      String.raw`    log-format %ID\ %r`,
      "    default_backend be",
      "backend be",
      "    mode http",
      `    server s1 ${up.address}`,
    ], async (port) => {
      await request(port, "/u");
    });
    const id = /^x-unique-id: (.*)$/im.exec(up.requests[0].head)?.[1];
    assert.ok(id !== undefined, up.requests[0].head);
    assert.match(id, /^7F000001:[0-9A-F]{4}_7F000001:[0-9A-F]{4}_[0-9A-F]{4,}:[0-9A-F]{4,}$/);
    assert.match(up.requests[0].head, new RegExp(`^x-copy: ${id}$`, "im"));
    assert.deepEqual(access(`${dir}/a.log`), [`${id} GET /u HTTP/1.1`]);
  });
});

Deno.test("option log-separate-errors: errors at level err, so that a target at err gets only them", async () => {
  await using up = modelUpstream();
  await withTempDir(async (dir) => {
    await withCfg(dir, [
      "global",
      `    log file@${dir}/all.log format short local0`,
      `    log file@${dir}/err.log format short local0 err`,
      "defaults",
      "    mode http",
      "    log global",
      "    option httplog",
      "    option log-separate-errors",
      "frontend fe",
      "    bind 127.0.0.1:0",
      "    use_backend dead if { path /dead }",
      "    default_backend be",
      "backend be",
      `    server s1 ${up.address}`,
      "backend dead",
      "    retries 0",
      `    server d1 127.0.0.1:${refusedPort()}`,
    ], async (port) => {
      assert.equal((await request(port, "/ok")).status, 200);
      assert.equal((await request(port, "/dead")).status, 503);
    });
    const all = access(`${dir}/all.log`);
    assert.equal(all.length, 2);
    assert.match(all.find((l) => l.includes('"GET /ok '))!, /^<6>/);
    assert.match(all.find((l) => l.includes('"GET /dead '))!, /^<3>.* 503 .* SC-- /);
    assert.deepEqual(access(`${dir}/err.log`).map((l) => /"GET (\S+)/.exec(l)![1]), ["/dead"]);
  });
});

Deno.test("option log-health-checks: each check result that changes the status or health is logged to the backend's targets", async () => {
  await withTempDir(async (dir) => {
    await withCfg(dir, [
      "global",
      `    log file@${dir}/global.log format raw local0`,
      "defaults",
      "    mode tcp",
      "listen l",
      "    bind 127.0.0.1:0",
      `    log file@${dir}/be.log format raw local0`,
      "    option log-health-checks",
      `    server s1 127.0.0.1:${refusedPort()} check inter 100 fall 2 rise 1`,
    ], async () => {
      await waitFor(
        () => lines(`${dir}/be.log`).some((l) => l.includes(" is DOWN")),
        5000,
        "the server going down",
      );
    });
    const be = lines(`${dir}/be.log`);
    assert.match(
      be[0],
      /^\[NOTICE\] Health check for server l\/s1 failed, reason: Layer4 connection problem, info: "[^"]+", check duration: \d+ms, status: 0\/1 DOWN\.$/,
    );
    assert.ok(be.some((l) => /^\[WARNING\] Server l\/s1 is DOWN/.test(l)), be.join("\n"));
    // The health did not change after it went down: one check line only.
    assert.equal(be.filter((l) => l.includes("Health check")).length, 1, be.join("\n"));
    assert.ok(!lines(`${dir}/global.log`).some((l) => l.includes("l/s1")));
  });
});

Deno.test("log-format-sd: RFC 5424 targets get the structured data, other formats do not", async () => {
  await using up = modelUpstream();
  await withTempDir(async (dir) => {
    await withCfg(dir, [
      "global",
      `    log file@${dir}/5424.log format rfc5424 local0`,
      `    log file@${dir}/raw.log format raw local0`,
      "defaults",
      "    mode http",
      "    log global",
      "frontend fe",
      "    bind 127.0.0.1:0",
      String.raw`    log-format-sd [exampleSDID@1234\ bytes=\"%B\"\ status=\"%ST\"]`,
      String.raw`    log-format %ST\ %HP`,
      "    default_backend be",
      "backend be",
      `    server s1 ${up.address}`,
    ], async (port) => {
      await request(port, "/sd");
    });
    const sd = access(`${dir}/5424.log`);
    assert.equal(sd.length, 1);
    assert.match(
      sd[0],
      /^<134>1 \S+ \S+ sluice \d+ - \[exampleSDID@1234 bytes="\d+" status="200"\] 200 \/sd$/,
    );
    assert.deepEqual(access(`${dir}/raw.log`), ["200 /sd"]);
  });
});
