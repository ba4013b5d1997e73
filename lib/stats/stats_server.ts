/**
 * The stats listener: a small HTTP server apart from the proxied traffic
 * that serves the HTML page (`/`), HAProxy CSV (`/;csv`), JSON (`/;json`)
 * and Prometheus metrics (`/metrics`). It binds only where configured,
 * can require basic auth and an allow-list of client networks.
 *
 * @module
 */
import { timingSafeEqual } from "node:crypto";
import { type IpNet, ipNetParse, ipParse } from "../rules/acl_ip.ts";
import type { InstanceStats } from "./stats_types.ts";
import { formatPrometheus, PROMETHEUS_CONTENT_TYPE } from "./prometheus.ts";
import { formatStatsPage } from "./stats_page.ts";

/** How the stats listener is set up. */
export interface StatsServerOptions {
  host: string;
  port: number;
  /** `user:password` for basic auth, or null for none. */
  auth: string | null;
  /** Client networks allowed (CIDR), empty for any. */
  allow: string[];
  /** HTML page refresh, seconds (0: none). */
  refresh: number;
  version: string;
}

/** Where the stats come from. */
export interface StatsSource {
  stats(): InstanceStats;
  /** HAProxy CSV of the stats. */
  csv(): string;
}

/** A running stats listener. */
export interface StatsServer {
  readonly port: number;
  close(): Promise<void>;
}

function allowed(nets: IpNet[], ip: string): boolean {
  if (nets.length === 0) return true;
  const w = new Uint32Array(4);
  const bytes = new TextEncoder().encode(ip);
  const kind = ipParse(bytes, 0, bytes.length, w);
  return kind !== 0 && nets.some((n) => n.has(kind, w));
}

function authorized(expected: string | null, header: string | null): boolean {
  if (expected === null) return true;
  if (header === null || !header.startsWith("Basic ")) return false;
  let given: string;
  try {
    given = atob(header.slice(6).trim());
  } catch {
    return false;
  }
  const a = new TextEncoder().encode(given), b = new TextEncoder().encode(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Starts the stats listener. Throws when it cannot bind. */
export function startStatsServer(opts: StatsServerOptions, source: StatsSource): StatsServer {
  const nets = opts.allow.map((c) => {
    const n = ipNetParse(c);
    if (typeof n === "string") throw new Error(`Invalid stats allow network "${c}": ${n}`);
    return n;
  });
  const server = Deno.serve(
    { hostname: opts.host, port: opts.port, onListen: () => {} },
    (req, info) => {
      const ip = (info.remoteAddr as Deno.NetAddr).hostname;
      if (!allowed(nets, ip)) return new Response("forbidden\n", { status: 403 });
      if (!authorized(opts.auth, req.headers.get("authorization"))) {
        return new Response("authentication required\n", {
          status: 401,
          headers: { "WWW-Authenticate": 'Basic realm="sluice stats"' },
        });
      }
      if (req.method !== "GET" && req.method !== "HEAD") {
        return new Response("method not allowed\n", {
          status: 405,
          headers: { Allow: "GET, HEAD" },
        });
      }
      const path = new URL(req.url).pathname;
      const noStore = { "Cache-Control": "no-store" };
      if (path === "/metrics") {
        return new Response(formatPrometheus(source.stats()), {
          headers: { ...noStore, "Content-Type": PROMETHEUS_CONTENT_TYPE },
        });
      }
      if (path.endsWith(";csv")) {
        return new Response(source.csv(), {
          headers: { ...noStore, "Content-Type": "text/plain" },
        });
      }
      if (path.endsWith(";json")) {
        return new Response(JSON.stringify(source.stats()), {
          headers: { ...noStore, "Content-Type": "application/json" },
        });
      }
      return new Response(
        formatStatsPage(source.stats(), { refresh: opts.refresh, version: opts.version }),
        { headers: { ...noStore, "Content-Type": "text/html; charset=utf-8" } },
      );
    },
  );
  return {
    port: server.addr.port,
    close: () => server.shutdown(),
  };
}
