/**
 * Statistics as HAProxy's CSV (`show stat`, the stats page's `;csv`): the
 * same header and column order, one FRONTEND row per frontend, a row per
 * server and a BACKEND row per backend. Columns sluice does not track are
 * left empty, as HAProxy does for fields that do not apply.
 *
 * @module
 */
import type { InstanceStats, ProxyStats } from "../worker/instance.ts";

/** HAProxy's CSV columns, in order (up to the ones sluice fills). */
export const CSV_FIELDS = [
  "pxname",
  "svname",
  "qcur",
  "qmax",
  "scur",
  "smax",
  "slim",
  "stot",
  "bin",
  "bout",
  "dreq",
  "dresp",
  "ereq",
  "econ",
  "eresp",
  "wretr",
  "wredis",
  "status",
  "weight",
  "act",
  "bck",
  "chkfail",
  "chkdown",
  "lastchg",
  "downtime",
  "qlimit",
  "pid",
  "iid",
  "sid",
  "throttle",
  "lbtot",
  "tracked",
  "type",
  "rate",
  "rate_lim",
  "rate_max",
  "check_status",
  "check_code",
  "check_duration",
  "hrsp_1xx",
  "hrsp_2xx",
  "hrsp_3xx",
  "hrsp_4xx",
  "hrsp_5xx",
  "hrsp_other",
  "hanafail",
  "req_rate",
  "req_rate_max",
  "req_tot",
  "cli_abrt",
  "srv_abrt",
] as const;

type Row = Partial<Record<(typeof CSV_FIELDS)[number], string | number>>;

/** A CSV cell: text with a comma, quote or line break is quoted. */
function cell(v: string | number | undefined): string {
  if (v === undefined) return "";
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function counters(p: ProxyStats): Row {
  return {
    scur: p.scur,
    smax: p.smax,
    stot: p.stot,
    bin: p.bin,
    bout: p.bout,
    ereq: p.ereq,
    econ: p.econ,
    eresp: p.eresp,
    wretr: p.wretr,
    hrsp_1xx: p.hrsp_1xx,
    hrsp_2xx: p.hrsp_2xx,
    hrsp_3xx: p.hrsp_3xx,
    hrsp_4xx: p.hrsp_4xx,
    hrsp_5xx: p.hrsp_5xx,
    hrsp_other: p.hrsp_other,
    req_tot: p.req_tot,
    cli_abrt: p.cli_abrt,
    srv_abrt: p.srv_abrt,
  };
}

/** `stats` as HAProxy CSV, header line first (`# pxname,svname,...`). */
export function formatCsv(stats: InstanceStats): string {
  const rows: Row[] = [];
  stats.frontends.forEach((f, i) => {
    rows.push({
      pxname: f.name,
      svname: "FRONTEND",
      ...counters(f),
      status: "OPEN",
      iid: i + 1,
      type: 0,
    });
  });
  stats.backends.forEach((b, i) => {
    const iid = stats.frontends.length + i + 1;
    b.servers.forEach((s, j) => {
      rows.push({
        pxname: b.name,
        svname: s.name,
        ...counters(s),
        qcur: s.qcur,
        qmax: s.qmax,
        wredis: s.wredis,
        status: s.status,
        weight: s.eweight,
        act: s.backup ? 0 : 1,
        bck: s.backup ? 1 : 0,
        chkfail: s.chkfail,
        chkdown: s.chkdown,
        iid,
        sid: j + 1,
        type: 2,
        check_status: s.check_status,
      });
    });
    rows.push({
      pxname: b.name,
      svname: "BACKEND",
      ...counters(b),
      qcur: b.qcur,
      qmax: b.qmax,
      wredis: b.wredis,
      status: b.status,
      act: b.act,
      bck: b.bck,
      iid,
      type: 1,
    });
  });
  let out = `# ${CSV_FIELDS.join(",")},\n`;
  for (const r of rows) out += CSV_FIELDS.map((f) => cell(r[f])).join(",") + ",\n";
  return out;
}
