/**
 * PROXY protocol handshake layers: reading the header a load balancer sends
 * before anything else on an accepted connection (`accept-proxy`), and
 * sending one first on a server connection (`send-proxy`, `send-proxy-v2`).
 * Each runs before the next layer (TLS) or hands the socket to the data
 * layer.
 *
 * Reading cannot peek: the runtime reads what has arrived, which may
 * include bytes after the header (a ClientHello, a request). Those go back
 * in front of the socket's input for the data layer; Deno's TLS, though,
 * reads the socket itself, past that input, so for TLS after a header
 * with bytes behind it the TLS socket runs over a small stream that
 * delivers them first.
 *
 * @module
 */
import type { Socket } from "node:net";
import { Duplex } from "node:stream";
import type { Connection } from "./connection.ts";
import { CO_ER_PROXY, CO_FL_CLOSED, type HandshakeLayer } from "./conn_types.ts";
import { PP_MAX, ppParse } from "./proxy_proto.ts";

/**
 * The layer of an `accept-proxy` listener: reads a v1 or v2 header (the
 * client's timeout bounds the wait), records its addresses in
 * `conn.proxied`, then runs `next` (TLS) or makes the connection ready. A
 * missing or invalid header fails the connection (CO_ER_PROXY).
 */
export function proxyAcceptLayer(next: HandshakeLayer | null): HandshakeLayer {
  return {
    name: next === null ? "proxy-accept" : `proxy-accept+${next.name}`,
    start(conn: Connection): void {
      const sock = conn.sock!;
      let got = new Uint8Array(0);
      const stop = () => {
        sock.removeListener("data", onData);
        sock.removeListener("end", onEnd);
        sock.pause();
      };
      const onEnd = () => {
        stop();
        conn.setError(CO_ER_PROXY, new Error("closed before a complete PROXY header"));
      };
      const onData = (chunk: Uint8Array) => {
        const all = new Uint8Array(got.length + chunk.length);
        all.set(got);
        all.set(chunk, got.length);
        got = all;
        const r = ppParse(got, got.length);
        if (r.st === "need" && got.length < PP_MAX) return;
        stop();
        if (r.st !== "ok") {
          const why = r.st === "error" ? r.why : "header too long";
          conn.setError(CO_ER_PROXY, new Error(why));
          return;
        }
        conn.proxied = { src: r.src, dst: r.dst };
        const rest = got.subarray(r.len);
        if (next === null) {
          if (rest.length > 0) sock.unshift(rest);
          conn.handshakeDone(sock);
          return;
        }
        if (rest.length > 0) conn.sock = behind(sock, rest) as unknown as Socket;
        next.start(conn);
      };
      sock.on("data", onData);
      sock.on("end", onEnd);
      sock.resume();
    },
  };
}

/**
 * A stream over `sock` that first delivers `rest` (bytes read past a PROXY
 * header), for a TLS layer that would otherwise read the socket directly.
 * Closing it closes the socket.
 */
function behind(sock: Socket, rest: Uint8Array): Duplex {
  const d = new Duplex({
    read() {
      sock.resume();
    },
    write(chunk, _enc, cb) {
      sock.write(chunk, cb);
    },
    final(cb) {
      sock.end();
      cb();
    },
    destroy(err, cb) {
      sock.destroy();
      cb(err);
    },
  });
  d.push(rest);
  sock.on("data", (c: Uint8Array) => {
    if (!d.push(c)) sock.pause();
  });
  sock.on("end", () => d.push(null));
  sock.on("error", (e) => d.destroy(e));
  return d;
}

/**
 * The layer of a `send-proxy` server: writes `conn.ppOut` (set by the
 * backend for the stream's client) as the first bytes, then runs `next`
 * (TLS, which must start after it) or makes the connection ready.
 */
export function proxySendLayer(next: HandshakeLayer | null): HandshakeLayer {
  return {
    name: next === null ? "proxy-send" : `proxy-send+${next.name}`,
    start(conn: Connection): void {
      const sock = conn.sock!;
      const header = conn.ppOut;
      conn.ppOut = null;
      const go = () => next === null ? conn.handshakeDone(sock) : next.start(conn);
      if (header === null) {
        go();
        return;
      }
      // Deno's TLS writes past the socket's queue: start it once the header is out.
      sock.write(header, (err) => {
        if (err) conn.sockError(err);
        else if (!(conn.flags & CO_FL_CLOSED)) go();
      });
    },
  };
}
