/**
 * The runtime API over a real unix socket in a temporary directory: the
 * socket is owner-only (0600), a client sends a line and reads HAProxy's
 * answer until the server closes, `prompt` keeps the connection for more
 * commands, and broken clients (silent, too long a line, binary junk, too
 * many) are cut off without harming the others. Each test closes the
 * socket and its temporary directory; the leak sanitizers stay on.
 */
import { px, srv } from "../helpers/stats_fixture.ts";
import assert from "node:assert/strict";
import { createAdminApi } from "../../lib/stats/admin_api.ts";
import { type AdminSocketOptions, serveAdminSocket } from "../../lib/stats/admin_socket.ts";
import type { AdminApi, AdminState, AdminTarget } from "../../lib/stats/admin_types.ts";
import { SluiceError } from "../../lib/core/errors.ts";
import type { InstanceStats } from "../../lib/stats/stats_types.ts";

/** A target with one frontend and one backend of two servers; weights change for real. */
function fakeTarget(): AdminTarget & { calls: string[] } {
  const state: AdminState = {
    frontends: [{ name: "web", mode: "http", maxconn: 0 }],
    backends: [{
      name: "app",
      mode: "http",
      algo: "roundrobin",
      servers: ["s1", "s2"].map((name, i) => ({
        name,
        addr: "127.0.0.1",
        port: 9001 + i,
        admin: "ready" as const,
        up: true,
        weight: 10,
        iweight: 10,
        maxconn: 0,
        maxqueue: 0,
        lastChangeSec: 0,
        tls: false,
        check: null,
      })),
    }],
  };
  const calls: string[] = [];
  return {
    calls,
    stats(): InstanceStats {
      return {
        frontends: [{ ...px("web"), stot: 12 }],
        backends: [{
          ...px("app"),
          status: "UP",
          act: 2,
          bck: 0,
          qcur: 0,
          qmax: 0,
          wredis: 0,
          stick_entries: -1,
          servers: state.backends[0].servers.map((s) =>
            srv(s.name, { weight: s.weight, eweight: s.weight })
          ),
        }],
        actconn: 0,
        pool: { inUse: 0, free: 0, allocated: 0, waits: 0, waiting: 0, limit: 0, size: 16384 },
        largePool: null,
        sched: { turns: 0, runs: 0, budgetHits: 0, crashes: 0, queued: 0, timers: 0, breaths: 0 },
        idle: { reused: 0, expired: 0, parked: 0 },
        log: { lines: 0, dropped: 0 },
      };
    },
    state: () => state,
    info: () => ({
      pid: Deno.pid,
      startTime: Date.now(),
      maxconn: 100,
      listeners: 1,
      stopping: false,
      node: "",
    }),
    setServer(b, s, change) {
      calls.push(`setServer ${b}/${s} ${JSON.stringify(change)}`);
      const srv = state.backends[0].servers.find((x) => x.name === s)!;
      if (change.weight !== undefined) srv.weight = change.weight;
      if (change.state !== undefined) srv.admin = change.state;
    },
    setMaxconn(b, s, n) {
      calls.push(`setMaxconn ${b}/${s} ${n}`);
    },
    shutdownSessions(b, s) {
      calls.push(`shutdownSessions ${b}/${s}`);
      return 0;
    },
  };
}

/** A temporary directory with a served socket in it; disposing closes both. */
async function served(opts: AdminSocketOptions = {}, api?: AdminApi) {
  const dir = await Deno.makeTempDir({ prefix: "sluice_admin_" });
  const path = `${dir}/admin.sock`;
  const target = fakeTarget();
  const sock = await serveAdminSocket(path, api ?? createAdminApi(target), opts);
  return {
    dir,
    path,
    target,
    sock,
    async [Symbol.asyncDispose]() {
      await sock.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A test client: writes text, reads until a suffix or until the server closes (5 s guard). */
class Client {
  readonly conn: Deno.UnixConn;
  text = "";
  #buf = new Uint8Array(65536);

  private constructor(conn: Deno.UnixConn) {
    this.conn = conn;
  }

  static async open(path: string): Promise<Client> {
    return new Client(await Deno.connect({ transport: "unix", path }));
  }

  async send(data: string | Uint8Array): Promise<void> {
    const b = typeof data === "string" ? enc.encode(data) : data;
    for (let off = 0; off < b.length;) off += await this.conn.write(b.subarray(off));
  }

  /** Reads until `text` ends with `suffix` (returns true) or EOF (returns false). */
  async until(suffix: string | null): Promise<boolean> {
    const guard = setTimeout(() => this.conn.close(), 5000);
    try {
      for (;;) {
        if (suffix !== null && this.text.endsWith(suffix)) return true;
        const n = await this.conn.read(this.#buf);
        if (n === null) return false;
        this.text += dec.decode(this.#buf.subarray(0, n));
      }
    } finally {
      clearTimeout(guard);
    }
  }

  /** Everything until the server closes. */
  async all(): Promise<string> {
    await this.until(null);
    return this.text;
  }

  close(): void {
    try {
      this.conn.close();
    } catch {
      // Closed by the guard.
    }
  }
}

/** Sends one line and returns the whole answer (the server closes after it). */
async function ask(path: string, line: string): Promise<string> {
  const c = await Client.open(path);
  try {
    await c.send(line);
    return await c.all();
  } finally {
    c.close();
  }
}

Deno.test("serveAdminSocket() creates an owner-only (0600) socket that answers show stat in HAProxy's CSV", async () => {
  await using s = await served();
  const st = await Deno.lstat(s.path);
  assert.ok(st.isSocket);
  assert.equal(st.mode! & 0o777, 0o600);
  const out = await ask(s.path, "show stat\n");
  assert.ok(out.endsWith(",\n\n"), "CSV lines end with a comma, the answer with an empty line");
  const lines = out.split("\n").filter((l) => l !== "");
  assert.ok(lines[0].startsWith("# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,"));
  const header = lines[0].slice(2).split(",");
  assert.equal(header.at(-1), "", "the header ends with a comma too");
  const col = (name: string) => header.indexOf(name);
  for (const f of ["status", "weight", "hrsp_other", "req_tot", "check_status", "uweight"]) {
    assert.ok(col(f) > 0, f);
  }
  const rows = lines.slice(1).map((l) => l.split(","));
  assert.deepEqual(rows.map((r) => `${r[0]}/${r[1]}`), [
    "web/FRONTEND",
    "app/s1",
    "app/s2",
    "app/BACKEND",
  ]);
  for (const r of rows) assert.equal(r.length, header.length);
  assert.equal(rows[0][col("stot")], "12");
  assert.equal(rows[1][col("status")], "no check");
  assert.equal(rows[1][col("addr")], "127.0.0.1:9001");
  assert.equal(rows[3][col("weight")], "20");
});

Deno.test("the socket honours another mode when asked", async () => {
  await using s = await served({ mode: 0o660 });
  assert.equal((await Deno.lstat(s.path)).mode! & 0o777, 0o660);
});

Deno.test("several ';'-separated commands are answered in order, then the server closes", async () => {
  await using s = await served();
  const out = await ask(
    s.path,
    "set weight app/s1 50%; get weight app/s1; set server app/s2 state drain; get weight app/zz\n",
  );
  assert.equal(out, "\n5 (initial 10)\n\n\nNo such server.\n\n");
  assert.deepEqual(s.target.calls, [
    'setServer app/s1 {"weight":5}',
    'setServer app/s2 {"state":"drain"}',
  ]);
});

Deno.test("show info and show servers state answer over the socket, and CRLF lines work", async () => {
  await using s = await served();
  const info = await ask(s.path, "show info\r\n");
  assert.match(info, /^Name: sluice\nVersion: /);
  assert.match(info, new RegExp(`^Pid: ${Deno.pid}$`, "m"));
  const state = await ask(s.path, "show servers state\n");
  assert.equal(state.split("\n")[0], "1");
  assert.match(state.split("\n")[2], /^2 app 1 s1 127\.0\.0\.1 2 0 10 10 0 /);
});

Deno.test("only the first line is run on a non-interactive connection", async () => {
  await using s = await served();
  const out = await ask(s.path, "set weight app/s1 3\nset weight app/s2 4\n");
  assert.equal(out, "\n");
  assert.deepEqual(s.target.calls, ['setServer app/s1 {"weight":3}']);
});

Deno.test("a command without a newline is run when the client shuts its side", async () => {
  await using s = await served();
  const c = await Client.open(s.path);
  try {
    await c.send("get weight app/s2");
    await c.conn.closeWrite();
    assert.equal(await c.all(), "10 (initial 10)\n\n");
  } finally {
    c.close();
  }
});

Deno.test("prompt keeps the connection open with a '> ' prompt until quit", async () => {
  await using s = await served();
  const c = await Client.open(s.path);
  try {
    await c.send("prompt\n");
    assert.ok(await c.until("\n> "));
    await c.send("get weight app/s1\n");
    assert.ok(await c.until("10 (initial 10)\n\n> "));
    await c.send("\n");
    assert.ok(await c.until("\n\n> > "), "an empty line just prompts again");
    await c.send("set weight app/s1 7; get weight app/s1\n");
    assert.ok(await c.until("\n7 (initial 10)\n\n> "));
    await c.send("quit\n");
    assert.equal(await c.until("never"), false, "quit closes the connection");
    assert.ok(c.text.endsWith("7 (initial 10)\n\n> "), "quit answers nothing");
  } finally {
    c.close();
  }
});

Deno.test("prompt a second time leaves interactive mode and the connection closes", async () => {
  await using s = await served();
  const c = await Client.open(s.path);
  try {
    await c.send("prompt\nprompt\n");
    assert.equal(await c.all(), "\n> \n");
  } finally {
    c.close();
  }
});

Deno.test("a line longer than maxLine gets one error line and the connection closes", async () => {
  await using s = await served({ maxLine: 64 });
  const out = await ask(s.path, "show " + "x".repeat(200) + "\n");
  assert.equal(out, "Command line too long.\n\n");
  // A line of exactly maxLine bytes is fine.
  const line = "get weight app/s1" + " ".repeat(64 - 17);
  assert.equal(line.length, 64);
  assert.equal(await ask(s.path, line + "\n"), "10 (initial 10)\n\n");
  assert.equal(await ask(s.path, "get weight app/s1\n"), "10 (initial 10)\n\n");
});

Deno.test("a client that sends nothing, or too little, is disconnected after the timeout", async () => {
  await using s = await served({ timeoutMs: 100 });
  const silent = await Client.open(s.path);
  const slow = await Client.open(s.path);
  try {
    await slow.send("show in");
    const t0 = performance.now();
    assert.equal(await silent.all(), "");
    assert.equal(await slow.all(), "");
    assert.ok(performance.now() - t0 < 4000);
  } finally {
    silent.close();
    slow.close();
  }
  assert.equal(await ask(s.path, "get weight app/s1\n"), "10 (initial 10)\n\n");
});

Deno.test("an idle interactive client is disconnected after the timeout", async () => {
  await using s = await served({ timeoutMs: 100 });
  const c = await Client.open(s.path);
  try {
    await c.send("prompt\n");
    assert.equal(await c.until("never"), false);
    assert.equal(c.text, "\n> ");
  } finally {
    c.close();
  }
});

Deno.test("binary junk gets 'Unknown command' and the socket keeps serving", async () => {
  await using s = await served();
  const junk = new Uint8Array(300);
  for (let i = 0; i < junk.length; i++) junk[i] = (i * 37 + 11) & 0xff;
  junk[0] = 0x41; // starts with a word
  const c = await Client.open(s.path);
  try {
    // Cut before the first newline byte so one junk line reaches the parser.
    const nl = junk.indexOf(0x0a);
    await c.send(junk.subarray(0, nl === -1 ? junk.length : nl));
    await c.send("\n");
    assert.match(await c.all(), /^Unknown command: '[^\n]*'\. [^\n]*\n\n$/);
  } finally {
    c.close();
  }
  // A client that connects and leaves at once, and one that resets mid-line.
  (await Client.open(s.path)).close();
  const half = await Client.open(s.path);
  await half.send("show st");
  half.close();
  assert.equal(await ask(s.path, "get weight app/s2\n"), "10 (initial 10)\n\n");
});

Deno.test("connections beyond maxConns are closed at once, the others served", async () => {
  await using s = await served({ maxConns: 1 });
  const first = await Client.open(s.path);
  try {
    // Let the first connection be accepted before the second arrives.
    await new Promise((r) => setTimeout(r, 50));
    const extra = await Client.open(s.path);
    try {
      assert.equal(await extra.all(), "");
    } finally {
      extra.close();
    }
    await first.send("get weight app/s1\n");
    assert.equal(await first.all(), "10 (initial 10)\n\n");
  } finally {
    first.close();
  }
});

Deno.test("a stale socket file is replaced, and its mode is set afresh", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sluice_admin_" });
  try {
    const path = `${dir}/admin.sock`;
    // A socket file nobody listens on: bound elsewhere, moved, and its listener closed.
    const l = Deno.listen({ transport: "unix", path: `${dir}/old.sock` });
    await Deno.rename(`${dir}/old.sock`, path);
    l.close();
    assert.ok((await Deno.lstat(path)).isSocket);
    await using sock = await serveAdminSocket(path, createAdminApi(fakeTarget()));
    assert.equal((await Deno.lstat(path)).mode! & 0o777, 0o600);
    assert.equal(await ask(sock.path, "get weight app/s1\n"), "10 (initial 10)\n\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a socket someone listens on, or a file that is not a socket, is refused with ERR_BIND", async () => {
  await using s = await served();
  await assert.rejects(
    () => serveAdminSocket(s.path, createAdminApi(fakeTarget())),
    (err: unknown) =>
      err instanceof SluiceError && err.code === "ERR_BIND" &&
      err.message === `Cannot listen on "unix:${s.path}": address already in use`,
  );
  // The first socket still works.
  assert.equal(await ask(s.path, "get weight app/s1\n"), "10 (initial 10)\n\n");
  const file = `${s.dir}/plain`;
  await Deno.writeTextFile(file, "keep me");
  await assert.rejects(
    () => serveAdminSocket(file, createAdminApi(fakeTarget())),
    (err: unknown) =>
      err instanceof SluiceError && err.code === "ERR_BIND" && /not a socket/.test(err.message),
  );
  assert.equal(await Deno.readTextFile(file), "keep me");
  await assert.rejects(
    () => serveAdminSocket(`${s.dir}/missing/admin.sock`, createAdminApi(fakeTarget())),
    (err: unknown) => err instanceof SluiceError && err.code === "ERR_BIND",
  );
});

Deno.test("close() disconnects clients, removes the socket file, and can be called twice", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sluice_admin_" });
  try {
    const path = `${dir}/admin.sock`;
    const sock = await serveAdminSocket(path, createAdminApi(fakeTarget()));
    const idle = await Client.open(path);
    const interactive = await Client.open(path);
    try {
      await interactive.send("prompt\n");
      assert.ok(await interactive.until("> "));
      const closing = sock.close();
      assert.equal(sock.close(), closing);
      await closing;
      assert.equal(await idle.all(), "");
      assert.equal(await interactive.until("never"), false);
    } finally {
      idle.close();
      interactive.close();
    }
    await assert.rejects(() => Deno.lstat(path), Deno.errors.NotFound);
    await assert.rejects(() => Deno.connect({ transport: "unix", path }));
    // Nothing but the (removed) socket was ever created in the directory.
    assert.deepEqual([...Deno.readDirSync(dir)], []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("close() leaves alone a socket file that another socket has taken over", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sluice_admin_" });
  try {
    const path = `${dir}/admin.sock`;
    const sock = await serveAdminSocket(path, createAdminApi(fakeTarget()));
    await Deno.remove(path);
    const other = Deno.listen({ transport: "unix", path });
    try {
      await sock.close();
      assert.ok((await Deno.lstat(path)).isSocket, "the newer socket is still there");
    } finally {
      other.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
