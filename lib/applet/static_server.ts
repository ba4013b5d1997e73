/**
 * The one server of a static backend: `<STATIC>` (HAProxy names its
 * in-process answerers the same way, `<CACHE>`, `<PROMEX>`), whose
 * "connections" are the static data layer. Being a server, it gets the
 * counters, log fields and limits of any other.
 *
 * @module
 */
import { Server } from "../backend/server.ts";
import { staticLayer } from "./static_sock.ts";
import type { StaticSpec } from "./static_types.ts";

/** The server name static backends show in logs and stats. */
export const STATIC_SERVER_NAME = "<STATIC>";

/** The server of a static backend serving `spec`. */
export function staticServer(spec: StaticSpec, now: number): Server {
  const srv = new Server(
    STATIC_SERVER_NAME,
    { kind: "unix", path: spec.root },
    0,
    { xprt: staticLayer(spec), hs: null },
    { weight: 1, maxconn: 0, poolMaxConn: 0 },
  );
  srv.lastChange = now;
  return srv;
}
