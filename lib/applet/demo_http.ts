/**
 * The HTTP demo's upstream: a small web server on a loopback port that
 * answers every request with what it received (method, path, headers), so
 * `deno task start` shows what sluice forwards (X-Forwarded-For, ...).
 *
 * @module
 */

/** A running demo server. */
export interface DemoServer {
  /** The bound port on 127.0.0.1. */
  readonly port: number;
  /** Stops it. */
  close(): Promise<void>;
}

/** Starts the demo web server on 127.0.0.1 (port 0 picks a free one). */
export function startDemoHttp(port = 0): DemoServer {
  const server = Deno.serve({ hostname: "127.0.0.1", port, onListen: () => {} }, (req) => {
    const url = new URL(req.url);
    const lines = [
      "hello from the sluice demo",
      "",
      `${req.method} ${url.pathname}${url.search}`,
      ...[...req.headers].map(([k, v]) => `${k}: ${v}`),
      "",
    ];
    return new Response(lines.join("\n"), { headers: { "content-type": "text/plain" } });
  });
  return {
    port: server.addr.port,
    close: () => server.shutdown(),
  };
}
