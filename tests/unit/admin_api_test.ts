/**
 * The runtime API without a socket: every command's output in HAProxy's
 * format (help, show info, show stat CSV, show servers state, show sess),
 * every server change reaching the target, and HAProxy's one-line errors
 * for unknown commands, unknown servers and bad values. A fake target holds
 * two frontends and two backends whose servers cover each state.
 */
import { px, srv } from "../helpers/stats_fixture.ts";
import assert from "node:assert/strict";
import { cliSplit, createAdminApi, parseMaxconn, parseWeight } from "../../lib/stats/admin_api.ts";
import type {
  AdminCliSession,
  AdminInfo,
  AdminSession,
  AdminSrvState,
  AdminState,
  AdminTarget,
} from "../../lib/stats/admin_types.ts";
import { CSV_FIELDS, formatCsv } from "../../lib/stats/stats_csv.ts";
import type { BackendStats, InstanceStats, ServerStats } from "../../lib/stats/stats_types.ts";
import { VERSION } from "../../lib/version.ts";

// -- fixture -------------------------------------------------------------------

function be(name: string, servers: ServerStats[], o: Partial<BackendStats> = {}): BackendStats {
  return {
    ...px(name),
    status: "UP",
    act: 0,
    bck: 0,
    qcur: 0,
    qmax: 0,
    wredis: 0,
    stick_entries: -1,
    servers,
    ...o,
  };
}

function fixtureStats(): InstanceStats {
  return {
    frontends: [
      px("web", {
        scur: 3,
        smax: 9,
        stot: 120,
        bin: 1000,
        bout: 5000,
        ereq: 2,
        dcon: 4,
        req_tot: 150,
        hrsp_2xx: 140,
        hrsp_4xx: 6,
        hrsp_5xx: 4,
      }),
      px("dbfe", { stot: 5, bout: 70 }),
    ],
    backends: [
      be("app", [
        srv("s1", {
          scur: 2,
          stot: 80,
          weight: 10,
          eweight: 10,
          check_status: "L7OK",
          check_desc: "HTTP status 200",
          check_health: 4,
          chkfail: 1,
          chkdown: 1,
          hrsp_2xx: 70,
          req_tot: 75,
        }),
        srv("s2", { scur: 1, stot: 30, status: "DRAIN", weight: 5, eweight: 5, qcur: 2, qmax: 6 }),
        srv("s3", { stot: 10, backup: true }),
      ], {
        scur: 3,
        smax: 8,
        stot: 120,
        qcur: 1,
        qmax: 4,
        act: 1,
        bck: 1,
        econ: 1,
        wretr: 2,
        wredis: 1,
        req_tot: 150,
        hrsp_2xx: 140,
        cli_abrt: 3,
      }),
      be("db", [
        srv("d1", { status: "MAINT", check_status: "L4OK", check_health: 4 }),
        srv("d2", {
          status: "DOWN",
          check_status: "L4CON",
          check_desc: "Connection refused",
          check_health: 1,
          chkfail: 9,
          chkdown: 2,
        }),
      ], { status: "DOWN" }),
    ],
    actconn: 3,
    pool: { inUse: 8, free: 56, allocated: 64, waits: 0, waiting: 0, limit: 8256, size: 16384 },
    largePool: null,
    sched: { turns: 10, runs: 20, budgetHits: 0, crashes: 0, queued: 2, timers: 5, breaths: 0 },
    idle: { reused: 0, expired: 0, parked: 0 },
    log: { lines: 100, dropped: 7 },
  };
}

function fixtureState(): AdminState {
  const s = (name: string, addr: string, port: number, o: object = {}) => ({
    name,
    addr,
    port,
    admin: "ready" as AdminSrvState,
    up: true,
    weight: 1,
    iweight: 1,
    maxconn: 0,
    maxqueue: 0,
    lastChangeSec: 0,
    tls: false,
    check: null,
    ...o,
  });
  return {
    frontends: [
      { name: "web", mode: "http", maxconn: 100 },
      { name: "dbfe", mode: "tcp", maxconn: 0 },
    ],
    backends: [
      {
        name: "app",
        mode: "http",
        algo: "roundrobin",
        servers: [
          s("s1", "10.0.0.1", 80, {
            weight: 10,
            iweight: 10,
            lastChangeSec: 42,
            check: { rise: 2, fall: 3, port: 8080 },
          }),
          s("s2", "10.0.0.2", 80, {
            admin: "drain",
            weight: 5,
            iweight: 5,
            maxconn: 50,
            maxqueue: 7,
            lastChangeSec: 7,
            tls: true,
          }),
          s("s3", "10.0.0.3", 80),
        ],
      },
      {
        name: "db",
        mode: "tcp",
        algo: "leastconn",
        servers: [
          s("d1", "::1", 5432, {
            admin: "maint",
            lastChangeSec: 100,
            check: { rise: 2, fall: 3, port: 0 },
          }),
          s("d2", "unix", 0, { up: false, lastChangeSec: 3, check: { rise: 2, fall: 3, port: 0 } }),
        ],
      },
    ],
  };
}

const START = 1_700_000_000_000;

/** A target that records every change and applies it to its state. */
class FakeTarget implements AdminTarget {
  readonly calls: string[] = [];
  st: InstanceStats = fixtureStats();
  state_: AdminState = fixtureState();
  fail: string | null = null;
  list: AdminSession[] = [
    {
      id: 0x1a,
      proto: "tcpv4",
      src: "127.0.0.1:40000",
      frontend: "web",
      backend: "app",
      server: "s1",
      ageMs: 3500,
    },
    {
      id: 0x1b,
      proto: "unix_stream",
      src: "unix",
      frontend: "dbfe",
      backend: "",
      server: "",
      ageMs: 125_000,
    },
  ];

  stats(): InstanceStats {
    return this.st;
  }
  state(): AdminState {
    return this.state_;
  }
  info(): AdminInfo {
    return {
      pid: 4242,
      startTime: START,
      maxconn: 4096,
      listeners: 3,
      stopping: false,
      node: "lb1",
    };
  }
  setServer(b: string, s: string, change: { state?: AdminSrvState; weight?: number }): void {
    if (this.fail !== null) throw new Error(this.fail);
    this.calls.push(`setServer ${b}/${s} ${JSON.stringify(change)}`);
    const info = this.state_.backends.find((x) => x.name === b)!.servers.find((x) => x.name === s)!;
    if (change.state !== undefined) info.admin = change.state;
    if (change.weight !== undefined) info.weight = change.weight;
  }
  setMaxconn(b: string, s: string, n: number): void {
    this.calls.push(`setMaxconn ${b}/${s} ${n}`);
  }
  shutdownSessions(b: string, s: string): number {
    this.calls.push(`shutdownSessions ${b}/${s}`);
    return 2;
  }
  sessions?(): AdminSession[] {
    return this.list;
  }
}

function setup() {
  const target = new FakeTarget();
  const api = createAdminApi(target, { now: () => START + 3_661_000 });
  return { target, api };
}

/** A CSV line's fields (HAProxy quotes fields holding commas or quotes). */
function csvParse(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < line.length) {
    if (line[i] === '"') {
      let v = "";
      i++;
      for (;;) {
        if (line[i] === '"' && line[i + 1] === '"') {
          v += '"';
          i += 2;
        } else if (line[i] === '"') {
          i++;
          break;
        } else v += line[i++];
      }
      out.push(v);
      i++; // the comma
    } else {
      const end = line.indexOf(",", i);
      out.push(line.slice(i, end));
      i = end + 1;
    }
  }
  return out;
}

/** `show stat` output as records by header name (the trailing empty field dropped). */
function statRows(text: string): Record<string, string>[] {
  const lines = text.split("\n").filter((l) => l !== "");
  assert.ok(lines[0].startsWith("# "));
  const header = csvParse(lines[0].slice(2));
  return lines.slice(1).map((l) => {
    const f = csvParse(l);
    assert.equal(f.length, header.length, `field count of ${l}`);
    return Object.fromEntries(header.map((h, i) => [h, f[i]]));
  });
}

function row(rows: Record<string, string>[], pxname: string, svname: string) {
  const r = rows.find((x) => x.pxname === pxname && x.svname === svname);
  assert.ok(r, `row ${pxname}/${svname}`);
  return r;
}

// -- line splitting and framing --------------------------------------------------

Deno.test("cliSplit() splits commands at ';' and words at blanks, honouring backslash escapes", () => {
  assert.deepEqual(cliSplit("show info"), [["show", "info"]]);
  assert.deepEqual(cliSplit("  show   stat ;\tshow info;;  "), [["show", "stat"], [
    "show",
    "info",
  ]]);
  assert.deepEqual(cliSplit("a\\;b c\\ d"), [["a;b", "c d"]]);
  assert.deepEqual(cliSplit("show info\r"), [["show", "info"]]);
  assert.deepEqual(cliSplit("a\nb"), [["a"], ["b"]]);
  assert.deepEqual(cliSplit(""), []);
  assert.deepEqual(cliSplit("trailing\\"), [["trailing\\"]]);
});

Deno.test("exec() follows every command's output with an empty line, and a blank line answers nothing", () => {
  const { api } = setup();
  assert.equal(api.exec("set server app/s1 state drain"), "\n");
  assert.equal(api.exec("get weight app/s1"), "10 (initial 10)\n\n");
  assert.equal(api.exec(""), "");
  assert.equal(api.exec("   ;  "), "");
});

Deno.test("exec() runs several ';'-separated commands in order, an error not stopping the next", () => {
  const { api, target } = setup();
  const out = api.exec("set weight app/s1 20; set weight app/nope 1; get weight app/s1");
  assert.equal(out, "\nNo such server.\n\n20 (initial 10)\n\n");
  assert.deepEqual(target.calls, ['setServer app/s1 {"weight":20}']);
});

// -- help and unknown commands -------------------------------------------------------

Deno.test("help lists every command in HAProxy's '  usage : description' format", () => {
  const { api } = setup();
  const out = api.exec("help");
  const lines = out.split("\n");
  assert.equal(lines[0], "The following commands are valid at this level:");
  for (
    const cmd of [
      "help",
      "prompt",
      "quit",
      "show info",
      "show stat",
      "show servers state",
      "show sess",
      "get weight",
      "disable server",
      "enable server",
      "set server",
      "set weight",
      "set maxconn server",
      "shutdown sessions server",
    ]
  ) {
    assert.ok(lines.some((l) => l.startsWith(`  ${cmd} `)), `help lists "${cmd}"`);
  }
  // Descriptions are aligned on one column.
  const cols = lines.slice(1, -2).map((l) => l.indexOf(": "));
  assert.equal(new Set(cols).size, 1);
  assert.ok(out.endsWith("\n\n"));
});

Deno.test("help with words lists only the matching commands", () => {
  const { api } = setup();
  const lines = api.exec("help show").split("\n").filter((l) => l.startsWith("  "));
  assert.equal(lines.length, 7); // info, stat, servers state, sess, cache, ssl cert, ssl crt-list
  assert.ok(lines.every((l) => l.startsWith("  show ")));
  const set = api.exec("help set server").split("\n").filter((l) => l.startsWith("  "));
  assert.equal(set.length, 1);
});

Deno.test("an unknown or incomplete command gets one 'Unknown command' line", () => {
  const { api } = setup();
  for (
    const cmd of ["bogus", "show", "show foo bar", "set", "SHOW INFO", "set maxconn global 10"]
  ) {
    const out = api.exec(cmd);
    assert.match(
      out,
      /^Unknown command: '[^\n]*'\. Please enter 'help' for the list of commands\.\n\n$/,
    );
  }
  assert.ok(api.exec("show foo bar").startsWith("Unknown command: 'show foo bar'"));
});

// -- show info -------------------------------------------------------------------------

Deno.test("show info prints HAProxy's 'Key: value' lines from info() and stats()", () => {
  const { api } = setup();
  const out = api.exec("show info");
  assert.ok(out.endsWith("\n\n"));
  const kv = new Map(
    out.trimEnd().split("\n").map((l) => {
      const i = l.indexOf(": ");
      return [l.slice(0, i), l.slice(i + 2)] as [string, string];
    }),
  );
  assert.equal(kv.get("Name"), "sluice");
  assert.equal(kv.get("Version"), VERSION);
  assert.equal(kv.get("Pid"), "4242");
  assert.equal(kv.get("Uptime"), "0d 1h01m01s");
  assert.equal(kv.get("Uptime_sec"), "3661");
  assert.equal(kv.get("Maxconn"), "4096");
  assert.equal(kv.get("Hard_maxconn"), "4096");
  assert.equal(kv.get("CurrConns"), "3");
  assert.equal(kv.get("CumConns"), String(120 + 4 + 5));
  assert.equal(kv.get("CumReq"), "150");
  assert.equal(kv.get("Run_queue"), "2");
  assert.equal(kv.get("Tasks"), "7");
  assert.equal(kv.get("node"), "lb1");
  assert.equal(kv.get("Stopping"), "0");
  assert.equal(kv.get("Listeners"), "3");
  assert.equal(kv.get("DroppedLogs"), "7");
  assert.equal(kv.get("TotalBytesOut"), "5070");
  assert.equal(kv.get("PoolAlloc_MB"), "1");
  assert.equal(kv.get("PoolUsed_bytes"), String(8 * 16384));
  assert.equal(kv.get("Start_time_sec"), String(START / 1000));
  // HAProxy's order: identity first, then limits, then current counts.
  const keys = [...kv.keys()];
  assert.deepEqual(keys.slice(0, 8), [
    "Name",
    "Version",
    "Nbthread",
    "Nbproc",
    "Process_num",
    "Pid",
    "Uptime",
    "Uptime_sec",
  ]);
  assert.ok(keys.indexOf("Maxconn") < keys.indexOf("CurrConns"));
});

Deno.test("show info formats long uptimes with days and leaves out an empty node", () => {
  const target = new FakeTarget();
  target.info = () => ({ ...FakeTarget.prototype.info(), node: "", stopping: true });
  const api = createAdminApi(target, {
    now: () => START + (2 * 86400 + 3 * 3600 + 4 * 60 + 5) * 1000,
  });
  const out = api.exec("show info");
  assert.match(out, /^Uptime: 2d 3h04m05s$/m);
  assert.match(out, /^Stopping: 1$/m);
  assert.doesNotMatch(out, /^node:/m);
});

Deno.test("show info refuses the output options it does not support", () => {
  const { api } = setup();
  assert.equal(api.exec("show info json"), "Unsupported 'show info' option: 'json'.\n\n");
});

// -- show stat -------------------------------------------------------------------------

Deno.test("show stat starts with HAProxy's CSV header, fields in HAProxy's order up to uweight", () => {
  const { api } = setup();
  const header = api.exec("show stat").split("\n")[0];
  assert.ok(
    header.startsWith(
      "# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr," +
        "wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle," +
        "lbtot,tracked,type,rate,rate_lim,rate_max,check_status,check_code,check_duration,hrsp_1xx," +
        "hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,hanafail,req_rate,req_rate_max,req_tot," +
        "cli_abrt,srv_abrt,",
    ),
  );
  assert.ok(header.endsWith(",need_conn_est,uweight,"));
  assert.equal(header, "# " + CSV_FIELDS.join(",") + ",");
  assert.equal(CSV_FIELDS.length, 100);
  assert.equal(CSV_FIELDS.indexOf("hrsp_other"), 44);
  assert.equal(CSV_FIELDS.indexOf("req_tot"), 48);
  assert.equal(CSV_FIELDS.indexOf("check_desc"), 65);
  assert.equal(CSV_FIELDS.indexOf("uweight"), 99);
});

Deno.test("show stat writes FRONTEND rows, then per backend its servers and its BACKEND row", () => {
  const { api } = setup();
  const out = api.exec("show stat");
  assert.ok(out.endsWith(",\n\n"));
  const lines = out.split("\n").filter((l) => l !== "");
  assert.ok(lines.every((l) => l.endsWith(",")), "every line ends with a comma like HAProxy");
  assert.deepEqual(
    statRows(out).map((r) => `${r.pxname}/${r.svname}/${r.type}/${r.iid}/${r.sid}`),
    [
      "web/FRONTEND/0/1/0",
      "dbfe/FRONTEND/0/2/0",
      "app/s1/2/3/1",
      "app/s2/2/3/2",
      "app/s3/2/3/3",
      "app/BACKEND/1/3/0",
      "db/d1/2/4/1",
      "db/d2/2/4/2",
      "db/BACKEND/1/4/0",
    ],
  );
});

Deno.test("show stat fills a FRONTEND row from its counters and settings", () => {
  const { api } = setup();
  const fe = row(statRows(api.exec("show stat")), "web", "FRONTEND");
  assert.equal(fe.scur, "3");
  assert.equal(fe.smax, "9");
  assert.equal(fe.slim, "100");
  assert.equal(fe.stot, "120");
  assert.equal(fe.bin, "1000");
  assert.equal(fe.bout, "5000");
  assert.equal(fe.ereq, "2");
  assert.equal(fe.status, "OPEN");
  assert.equal(fe.pid, "1");
  assert.equal(fe.hrsp_2xx, "140");
  assert.equal(fe.hrsp_4xx, "6");
  assert.equal(fe.hrsp_5xx, "4");
  assert.equal(fe.req_tot, "150");
  assert.equal(fe.mode, "http");
  assert.equal(fe.dcon, "4");
  assert.equal(fe.conn_tot, "124");
  assert.equal(fe.dreq, "0");
  assert.equal(fe.rate, "0");
  // Not tracked for frontends: left empty rather than a made-up 0.
  assert.equal(fe.qcur, "");
  // A TCP frontend has no HTTP columns and no limit.
  const tcp = row(statRows(api.exec("show stat")), "dbfe", "FRONTEND");
  assert.equal(tcp.hrsp_2xx, "");
  assert.equal(tcp.req_tot, "");
  assert.equal(tcp.slim, "");
  assert.equal(tcp.mode, "tcp");
});

Deno.test("show stat fills server rows: status words, weights, limits, checks, address", () => {
  const { api } = setup();
  const rows = statRows(api.exec("show stat"));
  const s1 = row(rows, "app", "s1");
  assert.equal(s1.status, "UP");
  assert.equal(s1.weight, "10");
  assert.equal(s1.uweight, "10");
  assert.equal(s1.act, "1");
  assert.equal(s1.bck, "0");
  assert.equal(s1.scur, "2");
  assert.equal(s1.stot, "80");
  assert.equal(s1.lbtot, "80");
  assert.equal(s1.lastchg, "42");
  assert.equal(s1.chkfail, "1");
  assert.equal(s1.chkdown, "1");
  assert.equal(s1.check_status, "L7OK");
  assert.equal(s1.check_desc, "HTTP status 200");
  assert.equal(s1.check_rise, "2");
  assert.equal(s1.check_fall, "3");
  assert.equal(s1.check_health, "4");
  assert.equal(s1.addr, "10.0.0.1:80");
  assert.equal(s1.hrsp_2xx, "70");
  assert.equal(s1.req_tot, "75");
  assert.equal(s1.slim, "");
  assert.equal(s1.throttle, "");
  const s2 = row(rows, "app", "s2");
  assert.equal(s2.status, "DRAIN");
  assert.equal(s2.slim, "50");
  assert.equal(s2.qlimit, "7");
  assert.equal(s2.qcur, "2");
  assert.equal(s2.qmax, "6");
  assert.equal(s2.check_status, "");
  assert.equal(s2.chkfail, "");
  const s3 = row(rows, "app", "s3");
  assert.equal(s3.status, "no check");
  assert.equal(s3.act, "0");
  assert.equal(s3.bck, "1");
  const d1 = row(rows, "db", "d1");
  assert.equal(d1.status, "MAINT");
  assert.equal(d1.addr, "[::1]:5432");
  assert.equal(d1.hrsp_2xx, "", "no HTTP columns in a TCP backend");
  const d2 = row(rows, "db", "d2");
  assert.equal(d2.status, "DOWN 1/2");
  assert.equal(d2.addr, "unix");
  assert.equal(d2.check_desc, "Connection refused");
  assert.equal(d2.chkdown, "2");
});

Deno.test("show stat shows a server going down as 'UP 1/3' and a slowstart ramp as throttle", () => {
  const { api, target } = setup();
  const s1 = target.st.backends[0].servers[0];
  s1.check_health = 2;
  s1.eweight = 2.5;
  const r = row(statRows(api.exec("show stat")), "app", "s1");
  assert.equal(r.status, "UP 1/3");
  assert.equal(r.weight, "3");
  assert.equal(r.uweight, "10");
  assert.equal(r.throttle, "25");
});

Deno.test("show stat fills a BACKEND row, its weight being the group in use", () => {
  const { api, target } = setup();
  let rows = statRows(api.exec("show stat"));
  const app = row(rows, "app", "BACKEND");
  assert.equal(app.status, "UP");
  assert.equal(app.act, "1");
  assert.equal(app.bck, "1");
  assert.equal(app.weight, "10", "s1 only: s2 drains, s3 is a backup");
  assert.equal(app.qcur, "1");
  assert.equal(app.qmax, "4");
  assert.equal(app.econ, "1");
  assert.equal(app.wretr, "2");
  assert.equal(app.wredis, "1");
  assert.equal(app.lbtot, "120");
  assert.equal(app.cli_abrt, "3");
  assert.equal(app.algo, "roundrobin");
  assert.equal(app.mode, "http");
  assert.equal(app.req_tot, "150");
  const db = row(rows, "db", "BACKEND");
  assert.equal(db.status, "DOWN");
  assert.equal(db.weight, "0");
  assert.equal(db.algo, "leastconn");
  // Only the backup left: its weight counts.
  target.st.backends[0].servers[0].status = "DOWN";
  target.st.backends[0].act = 0;
  rows = statRows(api.exec("show stat"));
  assert.equal(row(rows, "app", "BACKEND").weight, "1");
});

Deno.test("show stat reports latencies as average and max in ms when the stats carry them", () => {
  const { api, target } = setup();
  const snap = (count: number, sum: number, max: number) => ({
    count,
    sum,
    max,
    p50: 0,
    p90: 0,
    p99: 0,
    p999: 0,
    buckets: [],
  });
  (target.st.backends[0] as { lat?: unknown }).lat = {
    queue: snap(0, 0, 0),
    connect: snap(4, 10, 5.4),
    response: snap(4, 100, 60),
    total: snap(4, 130, 70.2),
  };
  const r = row(statRows(api.exec("show stat")), "app", "BACKEND");
  assert.equal(r.qtime, "0");
  assert.equal(r.ctime, "3");
  assert.equal(r.rtime, "25");
  assert.equal(r.ttime, "33");
  assert.equal(r.ctime_max, "5");
  assert.equal(r.ttime_max, "70");
  assert.equal(row(statRows(api.exec("show stat")), "app", "s1").ttime, "", "none recorded");
});

Deno.test("show stat <px> <type> <sid> filters rows, by proxy name or id", () => {
  const { api } = setup();
  const ids = (cmd: string) => statRows(api.exec(cmd)).map((r) => `${r.pxname}/${r.svname}`);
  assert.deepEqual(ids("show stat app 4 -1"), ["app/s1", "app/s2", "app/s3"]);
  assert.deepEqual(ids("show stat 3 4 2"), ["app/s2"]);
  assert.deepEqual(ids("show stat -1 1 -1"), ["web/FRONTEND", "dbfe/FRONTEND"]);
  assert.deepEqual(ids("show stat -1 2 -1"), ["app/BACKEND", "db/BACKEND"]);
  assert.deepEqual(ids("show stat db -1 -1"), ["db/d1", "db/d2", "db/BACKEND"]);
  assert.deepEqual(ids("show stat web 1 -1"), ["web/FRONTEND"]);
});

Deno.test("show stat up and no-maint leave out servers that are not up or in maintenance", () => {
  const { api } = setup();
  const ids = (cmd: string) =>
    statRows(api.exec(cmd)).filter((r) => r.type === "2").map((r) => r.svname);
  assert.deepEqual(ids("show stat up"), ["s1", "s3"]);
  assert.deepEqual(ids("show stat no-maint"), ["s1", "s2", "s3", "d2"]);
  assert.deepEqual(ids("show stat db 4 -1 no-maint"), ["d2"]);
});

Deno.test("show stat answers a bad filter or an unsupported format with one line", () => {
  const { api } = setup();
  assert.equal(api.exec("show stat nope 4 -1"), "No such proxy.\n\n");
  assert.equal(api.exec("show stat 99 -1 -1"), "No such proxy.\n\n");
  assert.equal(api.exec("show stat app"), "Require '<proxy> <type> <sid>' or no argument.\n\n");
  assert.equal(api.exec("show stat app x y"), "Require '<proxy> <type> <sid>' or no argument.\n\n");
  assert.equal(api.exec("show stat json"), "Unsupported 'show stat' option: 'json'.\n\n");
  assert.equal(api.exec("show stat typed"), "Unsupported 'show stat' option: 'typed'.\n\n");
});

Deno.test("formatCsv() quotes fields holding commas, quotes or line breaks", () => {
  const stats = fixtureStats();
  stats.backends[0].servers[0].check_desc = 'expected "ok", got\nnothing';
  const csv = formatCsv(stats, fixtureState());
  assert.ok(csv.includes(',"expected ""ok"", got\nnothing",'));
  const line = csv.split("\n").find((l) => l.startsWith("app,s1,"))!;
  assert.ok(line !== undefined);
});

Deno.test("formatCsv() without state still writes every row, leaving settings columns empty", () => {
  const rows = statRows(formatCsv(fixtureStats()));
  assert.equal(rows.length, 9);
  const s2 = row(rows, "app", "s2");
  assert.equal(s2.slim, "");
  assert.equal(s2.addr, "");
  assert.equal(s2.lastchg, "");
  assert.equal(s2.status, "DRAIN");
  assert.equal(row(rows, "web", "FRONTEND").hrsp_2xx, "140");
});

// -- show servers state ------------------------------------------------------------------

Deno.test("show servers state prints format version 1, HAProxy's header and a line per server", () => {
  const { api } = setup();
  const out = api.exec("show servers state");
  assert.ok(out.endsWith("\n\n"));
  const lines = out.split("\n");
  assert.equal(lines[0], "1");
  assert.equal(
    lines[1],
    "# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight " +
      "srv_iweight srv_time_since_last_change srv_check_status srv_check_result " +
      "srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id " +
      "srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr " +
      "srv_agent_port",
  );
  assert.deepEqual(lines.slice(2, -2), [
    "3 app 1 s1 10.0.0.1 2 0 10 10 42 15 3 4 6 0 0 0 - 80 - 0 8080 - - 0",
    "3 app 2 s2 10.0.0.2 2 8 5 5 7 0 0 0 0 0 0 0 - 80 - 1 0 - - 0",
    "3 app 3 s3 10.0.0.3 2 0 1 1 0 0 0 0 0 0 0 0 - 80 - 0 0 - - 0",
    "4 db 1 d1 ::1 0 1 1 1 100 6 3 4 6 0 0 0 - 5432 - 0 0 - - 0",
    "4 db 2 d2 unix 0 0 1 1 3 8 2 1 6 0 0 0 - 0 - 0 0 - - 0",
  ]);
  const header = lines[1].slice(2).split(" ");
  for (const l of lines.slice(2, -2)) assert.equal(l.split(" ").length, header.length);
});

Deno.test("show servers state shows a slowstarting server as starting (1)", () => {
  const { api, target } = setup();
  target.st.backends[0].servers[0].eweight = 2;
  const line = api.exec("show servers state app").split("\n")[2];
  assert.equal(line.split(" ")[5], "1");
});

Deno.test("show servers state <backend> limits the output to that backend, or says it is unknown", () => {
  const { api } = setup();
  const lines = api.exec("show servers state db").split("\n");
  assert.equal(lines[0], "1");
  assert.equal(lines.length, 2 + 2 + 2);
  assert.ok(lines[2].startsWith("4 db 1 d1 "));
  assert.equal(api.exec("show servers state nope"), "Can't find backend.\n\n");
});

// -- show sess ---------------------------------------------------------------------------

Deno.test("show sess lists live streams HAProxy-style, one line each", () => {
  const { api } = setup();
  assert.equal(
    api.exec("show sess"),
    "0x1a: proto=tcpv4 src=127.0.0.1:40000 fe=web be=app srv=s1 age=3s\n" +
      "0x1b: proto=unix_stream src=unix fe=dbfe be=<NONE> srv=<none> age=2m05s\n\n",
  );
  assert.equal(api.exec("show sess all"), api.exec("show sess"));
});

Deno.test("show sess <id> shows one stream, or says it is not found", () => {
  const { api } = setup();
  assert.equal(
    api.exec("show sess 0x1b"),
    "0x1b: proto=unix_stream src=unix fe=dbfe be=<NONE> srv=<none> age=2m05s\n\n",
  );
  assert.equal(api.exec("show sess 1a").split("\n").length, 3);
  assert.equal(api.exec("show sess 0x99"), "Session not found.\n\n");
  assert.equal(api.exec("show sess zz"), "Session not found.\n\n");
});

Deno.test("show sess formats ages in hours and days like HAProxy", () => {
  const { api, target } = setup();
  target.list = [
    { ...target.list[0], ageMs: 2 * 3600_000 + 5 * 60_000 },
    { ...target.list[0], id: 2, ageMs: 3 * 86400_000 + 4 * 3600_000 },
  ];
  const out = api.exec("show sess");
  assert.match(out, /age=2h05m\n/);
  assert.match(out, /age=3d04h\n/);
});

Deno.test("show sess without per-session data says so and prints counts per frontend", () => {
  const { api, target } = setup();
  target.sessions = undefined;
  assert.equal(
    api.exec("show sess"),
    "# per-session details are not available; current sessions per frontend:\n" +
      "web: 3\ndbfe: 0\n\n",
  );
});

// -- server changes ------------------------------------------------------------------------

Deno.test("disable server puts it in maintenance and enable server makes it ready", () => {
  const { api, target } = setup();
  assert.equal(api.exec("disable server app/s1"), "\n");
  assert.equal(api.exec("enable server db/d1"), "\n");
  assert.deepEqual(target.calls, [
    'setServer app/s1 {"state":"maint"}',
    'setServer db/d1 {"state":"ready"}',
  ]);
});

Deno.test("set server <b>/<s> state takes ready, drain and maint, and nothing else", () => {
  const { api, target } = setup();
  assert.equal(api.exec("set server app/s1 state drain; set server app/s2 state ready"), "\n\n");
  assert.equal(api.exec("set server app/s3 state maint"), "\n");
  assert.deepEqual(target.calls, [
    'setServer app/s1 {"state":"drain"}',
    'setServer app/s2 {"state":"ready"}',
    'setServer app/s3 {"state":"maint"}',
  ]);
  const err = "'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n\n";
  assert.equal(api.exec("set server app/s1 state"), err);
  assert.equal(api.exec("set server app/s1 state up"), err);
  assert.equal(api.exec("set server app/s1 state MAINT"), err);
  assert.equal(target.calls.length, 3);
});

Deno.test("set server answers fields it does not support with one line", () => {
  const { api, target } = setup();
  const err = "'set server <srv>' only supports 'state' and 'weight'.\n\n";
  assert.equal(api.exec("set server app/s1 addr 10.0.0.9"), err);
  assert.equal(api.exec("set server app/s1"), err);
  assert.equal(target.calls.length, 0);
});

Deno.test("set server weight and set weight take an absolute weight or a share of the configured one", () => {
  const { api, target } = setup();
  assert.equal(api.exec("set server app/s1 weight 20"), "\n");
  assert.equal(api.exec("set weight app/s1 50%"), "\n");
  assert.equal(api.exec("set weight app/s2 0"), "\n");
  assert.equal(api.exec("set weight app/s1 5000%"), "\n", "capped at 256");
  assert.equal(api.exec("set server app/s2 weight 100%"), "\n");
  assert.deepEqual(target.calls, [
    'setServer app/s1 {"weight":20}',
    'setServer app/s1 {"weight":5}',
    'setServer app/s2 {"weight":0}',
    'setServer app/s1 {"weight":256}',
    'setServer app/s2 {"weight":5}',
  ]);
});

Deno.test("set weight answers a bad weight with HAProxy's message", () => {
  const { api, target } = setup();
  assert.equal(
    api.exec("set weight app/s1"),
    "Require <backend>/<server> and <weight> or <weight%>.\n\n",
  );
  assert.equal(api.exec("set weight"), "Require <backend>/<server> and <weight> or <weight%>.\n\n");
  assert.equal(
    api.exec("set weight app/s1 257"),
    "Absolute weight can only be between 0 and 256 inclusive.\n\n",
  );
  assert.equal(
    api.exec("set weight app/s1 -1"),
    "Absolute weight can only be between 0 and 256 inclusive.\n\n",
  );
  assert.equal(api.exec("set weight app/s1 -5%"), "Relative weight must be positive.\n\n");
  assert.equal(api.exec("set weight app/s1 12x"), "Trailing garbage in weight string.\n\n");
  assert.equal(
    api.exec("set weight app/s1 x12"),
    "Empty weight string empty or preceded by garbage.\n\n",
  );
  assert.equal(api.exec("set server app/s1 weight"), "Require <weight> or <weight%>.\n\n");
  assert.equal(target.calls.length, 0);
});

Deno.test("parseWeight() follows HAProxy's rules for absolute and relative weights", () => {
  assert.equal(parseWeight("0", 10), 0);
  assert.equal(parseWeight("256", 10), 256);
  assert.equal(parseWeight("+7", 10), 7);
  assert.equal(parseWeight("0%", 10), 0);
  assert.equal(parseWeight("33%", 10), 3);
  assert.equal(parseWeight("999999%", 10), 256);
  assert.equal(parseWeight("100%", 1), 1);
  assert.equal(typeof parseWeight("", 1), "string");
  assert.equal(typeof parseWeight(undefined, 1), "string");
  assert.equal(typeof parseWeight("1%%", 1), "string");
  assert.equal(typeof parseWeight("1.5", 1), "string");
});

Deno.test("get weight reports the current and the configured weight", () => {
  const { api } = setup();
  api.exec("set weight app/s1 3");
  assert.equal(api.exec("get weight app/s1"), "3 (initial 10)\n\n");
  assert.equal(api.exec("get weight app/zz"), "No such server.\n\n");
});

Deno.test("set maxconn server sets the limit, 0 meaning none", () => {
  const { api, target } = setup();
  assert.equal(api.exec("set maxconn server app/s2 100"), "\n");
  assert.equal(api.exec("set maxconn server app/s2 0"), "\n");
  assert.deepEqual(target.calls, ["setMaxconn app/s2 100", "setMaxconn app/s2 0"]);
});

Deno.test("set maxconn server answers a bad value with one line", () => {
  const { api, target } = setup();
  assert.equal(api.exec("set maxconn server app/s2"), "Require <maxconn>.\n\n");
  assert.equal(
    api.exec("set maxconn server app/s2 ten"),
    "maxconn string empty or preceded by garbage.\n\n",
  );
  assert.equal(
    api.exec("set maxconn server app/s2 10k"),
    "Trailing garbage in maxconn string.\n\n",
  );
  assert.equal(
    api.exec("set maxconn server app/s2 -1"),
    "maxconn must be between 0 (no limit) and 2147483647.\n\n",
  );
  assert.equal(api.exec("set maxconn server app/zz 5"), "No such server.\n\n");
  assert.equal(target.calls.length, 0);
  assert.equal(parseMaxconn("2147483647"), 2147483647);
  assert.equal(typeof parseMaxconn("2147483648"), "string");
});

Deno.test("shutdown sessions server kills the server's streams and prints nothing", () => {
  const { api, target } = setup();
  assert.equal(api.exec("shutdown sessions server app/s1"), "\n");
  assert.deepEqual(target.calls, ["shutdownSessions app/s1"]);
  assert.equal(api.exec("shutdown sessions server app"), "Require 'backend/server'.\n\n");
});

Deno.test("a server is named backend/server or by #id, and a wrong one gets HAProxy's error", () => {
  const { api, target } = setup();
  assert.equal(api.exec("disable server #3/#2"), "\n");
  assert.equal(api.exec("disable server db/#1"), "\n");
  assert.deepEqual(target.calls, [
    'setServer app/s2 {"state":"maint"}',
    'setServer db/d1 {"state":"maint"}',
  ]);
  for (const cmd of ["disable server", "enable server", "get weight", "set server"]) {
    assert.equal(api.exec(`${cmd} nope/s1`), "No such backend.\n\n", cmd);
    assert.equal(api.exec(`${cmd} app/nope`), "No such server.\n\n", cmd);
    assert.equal(api.exec(`${cmd} app`), "Require 'backend/server'.\n\n", cmd);
    assert.equal(api.exec(`${cmd} app/`), "Require 'backend/server'.\n\n", cmd);
    assert.equal(api.exec(`${cmd} /s1`), "Require 'backend/server'.\n\n", cmd);
    assert.equal(api.exec(cmd), "Require 'backend/server'.\n\n", cmd);
  }
  assert.equal(api.exec("disable server #1/s1"), "No such backend.\n\n", "#1 is a frontend");
  assert.equal(api.exec("disable server app/#9"), "No such server.\n\n");
  assert.equal(target.calls.length, 2);
});

Deno.test("a target that throws costs one line of output, never an exception", () => {
  const { api, target } = setup();
  target.fail = 'Invalid weight 300 for "app/s1"\nsecond line';
  assert.equal(
    api.exec("set weight app/s1 3; get weight app/s1"),
    'Invalid weight 300 for "app/s1"\n\n10 (initial 10)\n\n',
  );
  target.stats = () => {
    throw new TypeError("boom");
  };
  assert.equal(api.exec("show stat"), "boom\n\n");
});

// -- session commands ------------------------------------------------------------------------

Deno.test("prompt toggles interactive mode and quit stops the line, in the connection's session", () => {
  const { api } = setup();
  const cli: AdminCliSession = { interactive: false, quit: false };
  assert.equal(api.exec("prompt", cli), "\n");
  assert.equal(cli.interactive, true);
  assert.equal(api.exec("get weight app/s1; quit; get weight app/s2", cli), "10 (initial 10)\n\n");
  assert.equal(cli.quit, true);
  assert.equal(api.exec("get weight app/s1", cli), "", "nothing after quit");
  // Without a session, quit only ends the line.
  assert.equal(api.exec("quit; get weight app/s1"), "");
  assert.equal(api.exec("get weight app/s1"), "10 (initial 10)\n\n");
});

// -- robustness -----------------------------------------------------------------------------------

Deno.test("exec() never throws and always ends with an empty line, whatever the input", () => {
  const { api } = setup();
  // A small deterministic generator: words from the command vocabulary, junk and separators.
  let seed = 12345;
  const rnd = (n: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  const vocab = [
    "show",
    "stat",
    "info",
    "servers",
    "state",
    "sess",
    "set",
    "server",
    "weight",
    "maxconn",
    "disable",
    "enable",
    "shutdown",
    "sessions",
    "get",
    "help",
    "app/s1",
    "db/d2",
    "#3/#1",
    "/",
    "-1",
    "4",
    "50%",
    "\\",
    ";",
    "\u0000",
    "\u00ff\u2028",
    "ready",
    "drain",
    "maint",
    "  ",
  ];
  for (let i = 0; i < 2000; i++) {
    const n = 1 + rnd(7);
    const words = Array.from({ length: n }, () => vocab[rnd(vocab.length)]);
    const line = words.join(rnd(3) === 0 ? "" : " ");
    const out = api.exec(line);
    assert.ok(out === "" || out.endsWith("\n"), JSON.stringify(line));
  }
});

Deno.test("a line ending with << carries the lines after it up to an empty one as payload", () => {
  let seen: string | null = null;
  const target = {
    state: () => ({ frontends: [], backends: [] }),
    sslCerts: () => ({
      set(file: string, payload: string) {
        seen = `${file}|${payload}`;
        return `Transaction created for certificate ${file}!`;
      },
    }),
  } as unknown as AdminTarget;
  const api = createAdminApi(target);
  assert.equal(
    api.exec("set ssl cert a.pem <<\nLINE1\nLINE2\n\nignored"),
    "Transaction created for certificate a.pem!\n\n",
  );
  assert.equal(seen, "a.pem|LINE1\nLINE2\n");
  assert.equal(
    api.exec("set ssl cert a.pem"),
    "'set ssl cert expects a filename and a certificate as a payload\n\n",
  );
  const none = createAdminApi({ state: target.state } as unknown as AdminTarget);
  assert.equal(none.exec("show ssl cert"), "# filename\n\n");
  assert.equal(none.exec("abort ssl cert x.pem"), "No ongoing transaction!\n\n");
  assert.equal(none.exec("show ssl crt-list"), "\n");
});
