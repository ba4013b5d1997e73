/**
 * One HTTP/1.1 GET over TLS (`Connection: close`) from a test, with what
 * came back: the whole response as text, or the handshake or connection
 * error. Certificates are not checked (test PKIs).
 */
import type net from "node:net";
import tls from "node:tls";

/** How tlsGet() connects and asks. */
export interface TlsGetOptions extends tls.ConnectionOptions {
  /** Request path. Default "/". */
  path?: string;
  /** A connected socket to run TLS over (a PROXY header sent first). */
  sock?: net.Socket;
  /** Shut the write side after the request. Default false. */
  end?: boolean;
  /** Give up after this many ms. Default 10000. */
  timeoutMs?: number;
}

/** GETs `o.path` over TLS from 127.0.0.1:`port`. */
export function tlsGet(
  port: number,
  o: TlsGetOptions = {},
): Promise<{ text: string; error: string }> {
  const { path = "/", sock, end = false, timeoutMs = 10_000, ...opts } = o;
  return new Promise((resolve) => {
    const out = { text: "", error: "" };
    const c = tls.connect(
      {
        host: "127.0.0.1",
        port,
        rejectUnauthorized: false,
        ...(sock ? { socket: sock } : {}),
        ...opts,
      },
      () => {
        const req = `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`;
        if (end) c.end(req);
        else c.write(req);
      },
    );
    c.on("data", (d) => out.text += d.toString("latin1"));
    c.on("error", (e) => out.error ||= e.message);
    c.on("close", () => resolve(out));
    c.setTimeout(timeoutMs, () => c.destroy(new Error("timeout")));
  });
}

/** The value of header `name` in a response text, or undefined. */
export function headerIn(text: string, name: string): string | undefined {
  return new RegExp(`^${name}: (.*)\r?$`, "mi").exec(text)?.[1];
}
