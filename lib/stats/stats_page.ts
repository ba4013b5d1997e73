/**
 * The HTML stats page: one table per frontend and backend, a row per
 * server with its state in colour, weights, sessions, queue, errors,
 * checks and latency percentiles. Plain HTML and CSS, no JavaScript;
 * refreshes itself with a meta refresh. Every value is escaped.
 *
 * @module
 */
import type { InstanceStats, LatencySnapshot, ProxyStats } from "./stats_types.ts";

function esc(s: string | number): string {
  return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function ms(h: LatencySnapshot | undefined): string {
  if (h === undefined || h.count === 0) return "-";
  const f = (v: number) => (v < 10 ? v.toFixed(1) : Math.round(v).toString());
  return `${f(h.p50)} / ${f(h.p90)} / ${f(h.p99)} / ${f(h.p999)}`;
}

const STATE_CLASS: Record<string, string> = {
  UP: "up",
  DOWN: "down",
  DRAIN: "drain",
  MAINT: "maint",
};

function counters(p: ProxyStats): string {
  return `<td>${esc(p.scur)}</td><td>${esc(p.smax)}</td><td>${esc(p.stot)}</td>` +
    `<td>${esc(p.rate)}/${esc(p.rate_max)}</td>` +
    `<td>${esc(p.bin)}</td><td>${esc(p.bout)}</td><td>${esc(p.req_tot)}</td>` +
    `<td>${esc(p.hrsp_2xx)}</td><td>${esc(p.hrsp_4xx)}</td><td>${esc(p.hrsp_5xx)}</td>` +
    `<td>${esc(p.ereq)}</td><td>${esc(p.econ)}</td><td>${esc(p.eresp)}</td>` +
    `<td>${esc(p.dreq)}/${esc(p.dresp)}</td>` +
    `<td class="lat">${esc(ms(p.lat?.response))}</td><td class="lat">${esc(ms(p.lat?.total))}</td>`;
}

const HEAD =
  `<tr><th>name</th><th>status</th><th>weight</th><th>queue</th><th>cur</th><th>max</th>` +
  `<th>total</th><th>rate/s (max)</th><th>bytes in</th><th>bytes out</th><th>requests</th><th>2xx</th><th>4xx</th>` +
  `<th>5xx</th><th>req err</th><th>conn err</th><th>resp err</th><th>denied req/resp</th>` +
  `<th>response ms p50/p90/p99/p99.9</th><th>total ms p50/p90/p99/p99.9</th><th>check</th></tr>`;

/** The page for `stats`; `refresh` in seconds (0: none). */
export function formatStatsPage(
  stats: InstanceStats,
  opts: { refresh: number; version: string },
): string {
  const rows: string[] = [];
  for (const f of stats.frontends) {
    rows.push(`<h2>frontend ${esc(f.name)}</h2><table>${HEAD}`);
    rows.push(
      `<tr class="px"><td>FRONTEND</td><td class="up">OPEN</td><td></td><td></td>${
        counters(f)
      }<td></td></tr>`,
    );
    rows.push(`</table>`);
  }
  for (const b of stats.backends) {
    rows.push(`<h2>backend ${esc(b.name)}</h2><table>${HEAD}`);
    for (const s of b.servers) {
      const cls = STATE_CLASS[s.status] ?? "down";
      const check = s.check_status === "" ? "no check" : `${s.check_status} ${s.check_desc}`;
      rows.push(
        `<tr${s.backup ? ' class="bck"' : ""}><td>${esc(s.name)}${
          s.backup ? " (backup)" : ""
        }</td>` +
          `<td class="${cls}">${esc(s.status)}</td><td>${esc(s.eweight)}/${esc(s.weight)}</td>` +
          `<td>${esc(s.qcur)}</td>${counters(s)}<td>${esc(check)}</td></tr>`,
      );
    }
    rows.push(
      `<tr class="px"><td>BACKEND</td><td class="${b.status === "UP" ? "up" : "down"}">${
        esc(b.status)
      }</td>` +
        `<td>${esc(b.act)} act / ${esc(b.bck)} bck</td><td>${esc(b.qcur)}</td>${
          counters(b)
        }<td></td></tr>`,
    );
    rows.push(`</table>`);
  }
  const refresh = opts.refresh > 0 ? `<meta http-equiv="refresh" content="${opts.refresh}">` : "";
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">${refresh}
<title>sluice stats</title>
<style>
body { font: 13px sans-serif; margin: 1em; }
table { border-collapse: collapse; margin-bottom: 1em; }
th, td { border: 1px solid #bbb; padding: 2px 6px; text-align: right; }
th { background: #eee; } td:first-child { text-align: left; }
.px td { font-weight: bold; background: #f6f6f6; }
td.up { background: #c6f2c6; } td.down { background: #f5b7b1; } td.drain { background: #aed6f1; }
td.maint { background: #d7bde2; }
.bck td:first-child { font-style: italic; }
</style></head><body>
<h1>sluice ${esc(opts.version)}</h1>
<p>${esc(stats.actconn)} current connections, ${esc(stats.pool.inUse)} buffers in use.
Also: <a href=";csv">CSV</a>, <a href=";json">JSON</a>, <a href="/metrics">Prometheus</a>.</p>
${rows.join("\n")}
</body></html>
`;
}
