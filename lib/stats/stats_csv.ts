/**
 * Statistics as HAProxy's CSV (`show stat`, and the `;csv` stats page):
 * the header line `# pxname,svname,...,` then one FRONTEND row per
 * frontend, and per backend one row per server followed by its BACKEND
 * row. Columns follow HAProxy 2.x's order up to `uweight` (field 99), so
 * tools reading either by position or by header name work; fields sluice
 * does not track are left empty, as HAProxy does for fields that do not
 * apply. Like HAProxy, every line ends with a comma.
 *
 * @module
 */
import type { BackendStats, InstanceStats, ProxyStats, ServerStats } from "./stats_types.ts";
import type { AdminBeState, AdminFeState, AdminSrvInfo, AdminState } from "./admin_types.ts";

/** The CSV columns, in HAProxy's order (HAProxy's `stat_fields` names). */
// deno-fmt-ignore
export const CSV_FIELDS: readonly string[] = [
  "pxname", "svname", "qcur", "qmax", "scur", "smax", "slim", "stot", "bin", "bout",
  "dreq", "dresp", "ereq", "econ", "eresp", "wretr", "wredis", "status", "weight", "act",
  "bck", "chkfail", "chkdown", "lastchg", "downtime", "qlimit", "pid", "iid", "sid", "throttle",
  "lbtot", "tracked", "type", "rate", "rate_lim", "rate_max", "check_status", "check_code",
  "check_duration", "hrsp_1xx", "hrsp_2xx", "hrsp_3xx", "hrsp_4xx", "hrsp_5xx", "hrsp_other",
  "hanafail", "req_rate", "req_rate_max", "req_tot", "cli_abrt", "srv_abrt", "comp_in",
  "comp_out", "comp_byp", "comp_rsp", "lastsess", "last_chk", "last_agt", "qtime", "ctime",
  "rtime", "ttime", "agent_status", "agent_code", "agent_duration", "check_desc", "agent_desc",
  "check_rise", "check_fall", "check_health", "agent_rise", "agent_fall", "agent_health", "addr",
  "cookie", "mode", "algo", "conn_rate", "conn_rate_max", "conn_tot", "intercepted", "dcon",
  "dses", "wrew", "connect", "reuse", "cache_lookups", "cache_hits", "srv_icur", "src_ilim",
  "qtime_max", "ctime_max", "rtime_max", "ttime_max", "eint", "idle_conn_cur", "safe_conn_cur",
  "used_conn_cur", "need_conn_est", "uweight",
];

const COL = new Map(CSV_FIELDS.map((f, i) => [f, i]));

/** HAProxy's `type` column. */
export const CSV_TYPE_FE = 0, CSV_TYPE_BE = 1, CSV_TYPE_SRV = 2;

/** Which rows `formatCsv()` writes (HAProxy's `show stat <px> <type> <sid>` and options). */
export interface CsvFilter {
  /** Only this proxy (by name), or by its id (`iid`); undefined for all. */
  proxy?: string | number;
  /** Bit mask of row types: 1 frontends, 2 backends, 4 servers; -1 for all. */
  types?: number;
  /** Only this server id (`sid`), -1 for all. */
  sid?: number;
  /** Only servers that are up (HAProxy's `up`). */
  up?: boolean;
  /** Skip servers in maintenance (HAProxy's `no-maint`). */
  noMaint?: boolean;
}

/** The subset of a latency snapshot the CSV uses (present when latencies are recorded). */
interface LatLike {
  count: number;
  sum: number;
  max: number;
}

type Lats = Partial<Record<"queue" | "connect" | "response" | "total", LatLike>>;

/** Latency distribution and the column it feeds. */
const LAT_COLS = [
  ["queue", "qtime"],
  ["connect", "ctime"],
  ["response", "rtime"],
  ["total", "ttime"],
] as const;

/**
 * The CSV text for `stats`: header, then the rows, each line ending with
 * ",\n". `state` (from `AdminTarget.state()`) adds what counters alone do
 * not have: limits, addresses, modes, algorithms, check settings; without
 * it those columns stay empty. Frontends get `iid` 1..F and backends
 * F+1..F+B in configuration order, servers `sid` 1..N in their backend.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatCsv } from "./stats_csv.ts";
 * const csv = formatCsv({
 *   frontends: [], backends: [], actconn: 0,
 *   pool: { inUse: 0, free: 0, allocated: 0, waits: 0, waiting: 0, limit: 0, size: 0 },
 *   largePool: null,
 *   sched: { turns: 0, runs: 0, budgetHits: 0, crashes: 0, queued: 0, timers: 0, breaths: 0 },
 *   idle: { reused: 0, expired: 0, parked: 0 }, log: { lines: 0, dropped: 0 },
 * });
 * assert(csv.startsWith("# pxname,svname,qcur,"));
 * ```
 */
export function formatCsv(
  stats: InstanceStats,
  state?: AdminState,
  filter: CsvFilter = {},
): string {
  let out = "# " + CSV_FIELDS.join(",") + ",\n";
  const fes = new Map<string, AdminFeState>(state?.frontends.map((f) => [f.name, f]) ?? []);
  const bes = new Map<string, AdminBeState>(state?.backends.map((b) => [b.name, b]) ?? []);
  const types = filter.types ?? -1;
  const sid = filter.sid ?? -1;
  const nFe = stats.frontends.length;
  const wanted = (name: string, iid: number) =>
    filter.proxy === undefined || filter.proxy === name || filter.proxy === iid;
  if (types & 1) {
    stats.frontends.forEach((fe, i) => {
      if (wanted(fe.name, i + 1)) out += csvLine(feRow(fe, i + 1, fes.get(fe.name)));
    });
  }
  stats.backends.forEach((be, i) => {
    const iid = nFe + i + 1;
    if (!wanted(be.name, iid)) return;
    const bst = bes.get(be.name);
    const infos = new Map<string, AdminSrvInfo>(bst?.servers.map((s) => [s.name, s]) ?? []);
    if (types & 4) {
      be.servers.forEach((srv, j) => {
        if (sid !== -1 && sid !== j + 1) return;
        if (filter.up && srv.status !== "UP") return;
        if (filter.noMaint && srv.status === "MAINT") return;
        out += csvLine(srvRow(be, srv, iid, j + 1, bst, infos.get(srv.name)));
      });
    }
    if (types & 2) out += csvLine(beRow(be, iid, bst, infos));
  });
  return out;
}

/** One CSV field: quoted (quotes doubled) when it holds a comma, quote or line break. */
export function csvField(v: string): string {
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

function csvLine(row: string[]): string {
  return row.map(csvField).join(",") + ",\n";
}

function newRow(): string[] {
  return new Array<string>(CSV_FIELDS.length).fill("");
}

function put(row: string[], field: string, v: string | number): void {
  row[COL.get(field)!] = typeof v === "number" ? String(v) : v;
}

/** Fields every row type has. */
function common(row: string[], p: ProxyStats, pxname: string, svname: string): void {
  put(row, "pxname", pxname);
  put(row, "svname", svname);
  put(row, "scur", p.scur);
  put(row, "smax", p.smax);
  put(row, "stot", p.stot);
  put(row, "bin", p.bin);
  put(row, "bout", p.bout);
  put(row, "pid", 1);
  put(row, "rate", p.rate);
  put(row, "rate_max", p.rate_max);
}

function http(row: string[], p: ProxyStats): void {
  put(row, "hrsp_1xx", p.hrsp_1xx);
  put(row, "hrsp_2xx", p.hrsp_2xx);
  put(row, "hrsp_3xx", p.hrsp_3xx);
  put(row, "hrsp_4xx", p.hrsp_4xx);
  put(row, "hrsp_5xx", p.hrsp_5xx);
  put(row, "hrsp_other", p.hrsp_other);
  put(row, "req_tot", p.req_tot);
  if (p.cache_lookups !== undefined) put(row, "cache_lookups", p.cache_lookups);
  if (p.cache_hits !== undefined) put(row, "cache_hits", p.cache_hits);
}

/** HAProxy's compression columns (frontends and backends), when the snapshot has them. */
function comp(row: string[], p: ProxyStats): void {
  if (p.comp_in === undefined) return;
  put(row, "comp_in", p.comp_in);
  put(row, "comp_out", p.comp_out ?? 0);
  put(row, "comp_byp", p.comp_byp ?? 0);
  put(row, "comp_rsp", p.comp_rsp ?? 0);
}

/** Queue, connect, response and total times: average and max in ms, when recorded. */
function times(row: string[], p: ProxyStats): void {
  // Read structurally: latency recording is optional in InstanceStats.
  const lat = (p as { lat?: Lats }).lat;
  if (lat === undefined) return;
  for (const [k, f] of LAT_COLS) {
    const l = lat[k];
    if (l === undefined) continue;
    // HAProxy averages the last 1024 samples; this is the average of all.
    put(row, f, l.count > 0 ? Math.round(l.sum / l.count) : 0);
    put(row, `${f}_max`, Math.round(l.max));
  }
}

function feRow(fe: ProxyStats, iid: number, st: AdminFeState | undefined): string[] {
  const row = newRow();
  common(row, fe, fe.name, "FRONTEND");
  if (st !== undefined && st.maxconn > 0) put(row, "slim", st.maxconn);
  put(row, "ereq", fe.ereq);
  put(row, "dreq", fe.dreq);
  put(row, "dresp", fe.dresp);
  put(row, "req_rate", fe.req_rate);
  put(row, "req_rate_max", fe.req_rate_max);
  put(row, "status", "OPEN");
  put(row, "iid", iid);
  put(row, "sid", 0);
  put(row, "type", CSV_TYPE_FE);
  if (st === undefined || st.mode === "http") http(row, fe);
  comp(row, fe);
  if (st !== undefined) put(row, "mode", st.mode);
  put(row, "conn_tot", fe.stot + fe.dcon);
  put(row, "dcon", fe.dcon);
  return row;
}

function beRow(
  be: BackendStats,
  iid: number,
  st: AdminBeState | undefined,
  infos: Map<string, AdminSrvInfo>,
): string[] {
  const row = newRow();
  common(row, be, be.name, "BACKEND");
  put(row, "qcur", be.qcur);
  put(row, "qmax", be.qmax);
  put(row, "dreq", be.dreq);
  put(row, "dresp", be.dresp);
  put(row, "econ", be.econ);
  put(row, "eresp", be.eresp);
  put(row, "wretr", be.wretr);
  put(row, "wredis", be.wredis);
  put(row, "status", be.status);
  // HAProxy: total effective weight of the group in use (active, else backup).
  const useBackup = be.act === 0 && be.bck > 0;
  let weight = 0, uweight = 0, lbtot = 0;
  for (const s of be.servers) {
    lbtot += s.stot;
    if (s.backup !== useBackup || s.status !== "UP" || s.eweight <= 0) continue;
    weight += Math.ceil(s.eweight);
    uweight += infos.get(s.name)?.weight ?? s.weight;
  }
  put(row, "weight", weight);
  put(row, "act", be.act);
  put(row, "bck", be.bck);
  put(row, "iid", iid);
  put(row, "sid", 0);
  put(row, "lbtot", lbtot);
  put(row, "type", CSV_TYPE_BE);
  if (st === undefined || st.mode === "http") http(row, be);
  comp(row, be);
  put(row, "cli_abrt", be.cli_abrt);
  put(row, "srv_abrt", be.srv_abrt);
  times(row, be);
  if (st !== undefined) {
    put(row, "mode", st.mode);
    put(row, "algo", st.algo);
  }
  put(row, "uweight", uweight);
  return row;
}

function srvRow(
  be: BackendStats,
  s: ServerStats,
  iid: number,
  sid: number,
  bst: AdminBeState | undefined,
  info: AdminSrvInfo | undefined,
): string[] {
  const row = newRow();
  common(row, s, be.name, s.name);
  put(row, "qcur", s.qcur);
  put(row, "qmax", s.qmax);
  if (info !== undefined && info.maxconn > 0) put(row, "slim", info.maxconn);
  put(row, "dresp", s.dresp);
  put(row, "econ", s.econ);
  put(row, "eresp", s.eresp);
  put(row, "wretr", s.wretr);
  put(row, "wredis", s.wredis);
  put(row, "status", csvSrvStatus(s, info));
  put(row, "weight", Math.ceil(s.eweight));
  put(row, "act", s.backup ? 0 : 1);
  put(row, "bck", s.backup ? 1 : 0);
  const checked = s.check_health >= 0;
  if (checked) {
    put(row, "chkfail", s.chkfail);
    put(row, "chkdown", s.chkdown);
    put(row, "downtime", s.downtime);
  }
  if (info !== undefined) {
    put(row, "lastchg", info.lastChangeSec);
    if (info.maxqueue > 0) put(row, "qlimit", info.maxqueue);
  }
  put(row, "iid", iid);
  put(row, "sid", sid);
  // Slowstart: the share of the weight reached so far.
  if (s.status === "UP" && s.weight > 0 && s.eweight < s.weight) {
    put(row, "throttle", Math.floor((s.eweight * 100) / s.weight));
  }
  put(row, "lbtot", s.stot);
  put(row, "type", CSV_TYPE_SRV);
  if (checked) {
    put(row, "check_status", s.check_status);
    put(row, "check_desc", s.check_desc);
    put(row, "check_health", s.check_health);
    if (info?.check) {
      put(row, "check_rise", info.check.rise);
      put(row, "check_fall", info.check.fall);
    }
  }
  if (bst === undefined || bst.mode === "http") http(row, s);
  put(row, "cli_abrt", s.cli_abrt);
  put(row, "srv_abrt", s.srv_abrt);
  times(row, s);
  if (info !== undefined) {
    put(row, "addr", info.addr === "unix" ? "unix" : hostPort(info.addr, info.port));
  }
  if (bst !== undefined) put(row, "mode", bst.mode);
  put(row, "uweight", s.weight);
  return row;
}

function hostPort(addr: string, port: number): string {
  return addr.includes(":") ? `[${addr}]:${port}` : `${addr}:${port}`;
}

/**
 * A server's status word as HAProxy's stats show it: MAINT, DRAIN, DOWN,
 * UP, "no check" for an up server without checks, and "UP 1/3" / "DOWN 1/2"
 * while checks are moving it (needs the check's rise and fall).
 */
export function csvSrvStatus(s: ServerStats, info?: AdminSrvInfo): string {
  if (s.status !== "UP" && s.status !== "DOWN") return s.status;
  const h = s.check_health;
  if (h < 0) return s.status === "UP" ? "no check" : "DOWN";
  const chk = info?.check;
  if (!chk) return s.status;
  if (s.status === "UP" && h < chk.rise + chk.fall - 1) return `UP ${h - chk.rise + 1}/${chk.fall}`;
  if (s.status === "DOWN" && h > 0) return `DOWN ${h}/${chk.rise}`;
  return s.status;
}
