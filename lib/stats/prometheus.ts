/**
 * Statistics in the Prometheus text exposition format (version 0.0.4):
 * one family per metric with `# HELP` and `# TYPE`, conventional names
 * (`sluice_backend_http_responses_total{backend="app",code="5xx"}`),
 * seconds for times and real histograms for the latency distributions.
 *
 * @module
 */
import type { InstanceStats, LatencySnapshot, LatencyStats, ProxyStats } from "./stats_types.ts";

type Labels = Record<string, string>;

/** Collects samples by family, writes each family once with its HELP and TYPE. */
class Exposition {
  readonly #families = new Map<string, { help: string; type: string; lines: string[] }>();

  add(name: string, type: "counter" | "gauge", help: string, labels: Labels, value: number): void {
    this.#family(name, type, help).lines.push(`${name}${fmtLabels(labels)} ${fmtNum(value)}`);
  }

  histogram(name: string, help: string, labels: Labels, h: LatencySnapshot): void {
    const f = this.#family(name, "histogram", help);
    for (const [le, n] of h.buckets) {
      const bound = le === Infinity ? "+Inf" : fmtNum(le / 1000);
      f.lines.push(`${name}_bucket${fmtLabels({ ...labels, le: bound })} ${n}`);
    }
    f.lines.push(`${name}_sum${fmtLabels(labels)} ${fmtNum(h.sum / 1000)}`);
    f.lines.push(`${name}_count${fmtLabels(labels)} ${h.count}`);
  }

  #family(name: string, type: string, help: string) {
    let f = this.#families.get(name);
    if (f === undefined) {
      f = { help, type, lines: [] };
      this.#families.set(name, f);
    }
    return f;
  }

  toString(): string {
    let out = "";
    for (const [name, f] of this.#families) {
      out += `# HELP ${name} ${f.help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}\n`;
      out += `# TYPE ${name} ${f.type}\n`;
      for (const l of f.lines) out += l + "\n";
    }
    return out;
  }
}

function fmtLabels(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) =>
    `${k}="${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`
  );
  return parts.length === 0 ? "" : `{${parts.join(",")}}`;
}

function fmtNum(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (n === Infinity) return "+Inf";
  if (n === -Infinity) return "-Inf";
  return String(n);
}

const CODES = ["1xx", "2xx", "3xx", "4xx", "5xx", "other"] as const;

/** Counters every proxy kind has, under `sluice_<kind>_...`. */
function common(e: Exposition, kind: string, l: Labels, p: ProxyStats): void {
  const m = (n: string) => `sluice_${kind}_${n}`;
  e.add(m("current_sessions"), "gauge", `Current sessions of the ${kind}.`, l, p.scur);
  e.add(m("max_sessions"), "gauge", `Highest number of sessions seen at once.`, l, p.smax);
  e.add(m("sessions_total"), "counter", `Sessions since start.`, l, p.stot);
  e.add(m("current_session_rate"), "gauge", `Sessions per second over the last second.`, l, p.rate);
  e.add(m("max_session_rate"), "gauge", `Highest sessions per second seen.`, l, p.rate_max);
  e.add(m("bytes_in_total"), "counter", `Bytes received from clients.`, l, p.bin);
  e.add(m("bytes_out_total"), "counter", `Bytes sent to clients.`, l, p.bout);
  e.add(m("http_requests_total"), "counter", `HTTP requests.`, l, p.req_tot);
  if (p.cache_lookups !== undefined) {
    e.add(m("http_cache_lookups_total"), "counter", `HTTP cache lookups.`, l, p.cache_lookups);
    e.add(m("http_cache_hits_total"), "counter", `HTTP cache hits.`, l, p.cache_hits ?? 0);
  }
  for (const c of CODES) {
    e.add(
      m("http_responses_total"),
      "counter",
      `HTTP responses by status class.`,
      { ...l, code: c },
      p[`hrsp_${c}` as keyof ProxyStats] as number,
    );
  }
  e.add(m("client_aborts_total"), "counter", `Sessions aborted by the client.`, l, p.cli_abrt);
  e.add(m("server_aborts_total"), "counter", `Sessions aborted by the server.`, l, p.srv_abrt);
  e.add(
    m("denied_responses_total"),
    "counter",
    `Responses denied by http-response rules.`,
    l,
    p.dresp,
  );
}

/** HAProxy's http_comp_* families (frontends and backends), when the snapshot has them. */
function compression(e: Exposition, kind: string, l: Labels, p: ProxyStats): void {
  if (p.comp_in === undefined) return;
  const m = (n: string) => `sluice_${kind}_http_comp_${n}`;
  e.add(m("bytes_in_total"), "counter", "Body bytes into the HTTP compressor.", l, p.comp_in);
  e.add(m("bytes_out_total"), "counter", "Bytes out of the HTTP compressor.", l, p.comp_out ?? 0);
  e.add(
    m("bytes_bypassed_total"),
    "counter",
    "Body bytes that went through the identity compressor.",
    l,
    p.comp_byp ?? 0,
  );
  e.add(m("responses_total"), "counter", "HTTP responses compressed.", l, p.comp_rsp ?? 0);
}

function latency(e: Exposition, kind: string, l: Labels, lat: LatencyStats | undefined): void {
  if (lat === undefined) return;
  const m = (n: string) => `sluice_${kind}_${n}_seconds`;
  e.histogram(m("queue_time"), "Time spent waiting in queues.", l, lat.queue);
  e.histogram(m("connect_time"), "Time to connect to the server.", l, lat.connect);
  e.histogram(m("response_time"), "Time from request sent to response head.", l, lat.response);
  e.histogram(m("total_time"), "Total time of the request or session.", l, lat.total);
}

/** The content type of the text exposition format. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** `stats` as Prometheus text. */
export function formatPrometheus(stats: InstanceStats): string {
  const e = new Exposition();
  e.add("sluice_process_current_connections", "gauge", "Current connections.", {}, stats.actconn);
  e.add("sluice_process_buffers_in_use", "gauge", "Buffers in use.", {}, stats.pool.inUse);
  e.add(
    "sluice_process_large_buffers_in_use",
    "gauge",
    "Large buffers (bulk transfers) in use.",
    {},
    stats.largePool?.inUse ?? 0,
  );
  e.add(
    "sluice_process_buffer_waits_total",
    "counter",
    "Streams that waited for a buffer.",
    {},
    stats.pool.waits,
  );
  e.add(
    "sluice_process_log_lines_dropped_total",
    "counter",
    "Log lines dropped (slow sink).",
    {},
    stats.log.dropped,
  );
  for (const c of stats.caches ?? []) {
    const l = { cache: c.name };
    e.add("sluice_cache_lookups_total", "counter", "Lookups in the cache.", l, c.lookups);
    e.add("sluice_cache_hits_total", "counter", "Lookups answered by the cache.", l, c.hits);
    e.add("sluice_cache_entries", "gauge", "Objects in the cache.", l, c.entries);
    e.add("sluice_cache_used_bytes", "gauge", "Bytes the cache holds.", l, c.used);
    e.add("sluice_cache_size_bytes", "gauge", "The cache's total-max-size.", l, c.size);
    e.add(
      "sluice_cache_evictions_total",
      "counter",
      "Objects evicted to make room.",
      l,
      c.evictions,
    );
  }
  for (const c of stats.sslCerts ?? []) {
    e.add(
      "sluice_ssl_cert_not_after_seconds",
      "gauge",
      "End of validity of a certificate, bind or server crt (Unix seconds).",
      { file: c.file },
      c.notAfter,
    );
  }
  for (const f of stats.frontends) {
    const l = { frontend: f.name };
    common(e, "frontend", l, f);
    compression(e, "frontend", l, f);
    e.add("sluice_frontend_request_errors_total", "counter", "Invalid requests.", l, f.ereq);
    e.add(
      "sluice_frontend_denied_requests_total",
      "counter",
      "Requests denied by rules.",
      l,
      f.dreq,
    );
    e.add(
      "sluice_frontend_http_request_rate",
      "gauge",
      "HTTP requests per second over the last second.",
      l,
      f.req_rate,
    );
    e.add(
      "sluice_frontend_http_max_request_rate",
      "gauge",
      "Highest HTTP requests per second seen.",
      l,
      f.req_rate_max,
    );
    e.add(
      "sluice_frontend_denied_connections_total",
      "counter",
      "Connections refused by tcp-request rules.",
      l,
      f.dcon,
    );
    latency(e, "frontend", l, f.lat);
  }
  for (const b of stats.backends) {
    const l = { backend: b.name };
    common(e, "backend", l, b);
    compression(e, "backend", l, b);
    e.add(
      "sluice_backend_up",
      "gauge",
      "1 when at least one server can take traffic.",
      l,
      b.status === "UP" ? 1 : 0,
    );
    e.add(
      "sluice_backend_active_servers",
      "gauge",
      "Active servers able to take traffic.",
      l,
      b.act,
    );
    e.add(
      "sluice_backend_backup_servers",
      "gauge",
      "Backup servers able to take traffic.",
      l,
      b.bck,
    );
    e.add("sluice_backend_current_queue", "gauge", "Streams in the backend queue.", l, b.qcur);
    e.add("sluice_backend_max_queue", "gauge", "Longest backend queue seen.", l, b.qmax);
    e.add(
      "sluice_backend_connection_errors_total",
      "counter",
      "Failed connections to servers.",
      l,
      b.econ,
    );
    e.add("sluice_backend_response_errors_total", "counter", "Failed responses.", l, b.eresp);
    e.add("sluice_backend_retry_warnings_total", "counter", "Connection retries.", l, b.wretr);
    e.add(
      "sluice_backend_redispatch_warnings_total",
      "counter",
      "Retries sent to another server.",
      l,
      b.wredis,
    );
    latency(e, "backend", l, b.lat);
    for (const s of b.servers) {
      const sl = { backend: b.name, server: s.name };
      common(e, "server", sl, s);
      for (const st of ["UP", "DOWN", "DRAIN", "MAINT"]) {
        e.add("sluice_server_status", "gauge", "Server state (1 for the current one).", {
          ...sl,
          state: st,
        }, s.status === st ? 1 : 0);
      }
      e.add("sluice_server_weight", "gauge", "Effective weight.", sl, s.eweight);
      e.add("sluice_server_current_queue", "gauge", "Streams in the server queue.", sl, s.qcur);
      e.add("sluice_server_max_queue", "gauge", "Longest server queue seen.", sl, s.qmax);
      e.add("sluice_server_connection_errors_total", "counter", "Failed connections.", sl, s.econ);
      e.add(
        "sluice_server_check_failures_total",
        "counter",
        "Failed health checks.",
        sl,
        s.chkfail,
      );
      e.add(
        "sluice_server_check_down_transitions_total",
        "counter",
        "UP to DOWN transitions.",
        sl,
        s.chkdown,
      );
      latency(e, "server", sl, s.lat);
    }
  }
  return e.toString();
}
