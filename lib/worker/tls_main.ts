/**
 * A TLS worker's entry point (`tls-isolation on`, started by threads.ts):
 * it binds the configuration's TLS listeners (SO_REUSEPORT, beside the
 * other TLS workers), reads any PROXY header, does every handshake with
 * the certificates and keys it alone holds among the workers, then hands
 * each connection to an HTTP worker (round robin) over a RingLink: the
 * plaintext moves through the connection's shared-memory rings
 * (ring_pump.ts here, ring_sock.ts there).
 *
 * A handshake is bounded by the frontend's `timeout client` (HAProxy's
 * default for `timeout client-hs`); its failure is logged as HAProxy logs
 * an embryonic session. Connections wait here, after their handshake, when
 * no HTTP worker is linked yet (at start, or while one is replaced), at
 * most `timeout client`.
 *
 * @module
 */
import type tls from "node:tls";
import { resolveConfig } from "../cfg/config_check.ts";
import type { ResolvedFrontend } from "../cfg/config_resolved_types.ts";
import { errMsg, SluiceError } from "../core/errors.ts";
import { ByteRing } from "../core/byte_ring.ts";
import { addrFormat } from "../core/addr_types.ts";
import type { Scheduler } from "../sched/scheduler.ts";
import type { Task } from "../sched/task.ts";
import { Connection } from "../conn/connection.ts";
import { CO_ER_TLS, CO_FL_ERROR, type DataLayer, type HandshakeLayer } from "../conn/conn_types.ts";
import { proxyAcceptLayer } from "../conn/proxy_sock.ts";
import { tlsAcceptLayer } from "../conn/tls_sock.ts";
import { tlsFactsOf, tlsFailLine } from "../conn/tls_bind.ts";
import { RingLink } from "../conn/ring_link.ts";
import { RingPump } from "../conn/ring_pump.ts";
import { ringDownOffset, ringPair } from "../conn/ring_sock.ts";
import { type AcceptedSock, ConnLimit, Listener } from "../listener/listener.ts";
import { TlsCertStore } from "../conn/tls_cert_store.ts";
import { createAdminApi } from "../stats/admin_api.ts";
import type { AdminTarget } from "../stats/admin_types.ts";
import type { ListenAddress } from "./instance.ts";
import { workerLogTargets } from "./thread_config.ts";
import {
  type FromWorker,
  type TlsWorkerStart,
  type ToWorker,
  waitUntil,
  writeReply,
} from "./thread_proto.ts";

// Deno's worker global: typed loosely, this module is only ever a worker.
const self = globalThis as unknown as {
  postMessage(m: FromWorker): void;
  onmessage: ((e: MessageEvent<ToWorker>) => void) | null;
  close(): void;
};

function post(m: FromWorker): void {
  self.postMessage(m);
}

/** One TLS listener of a frontend. */
interface Served {
  li: Listener;
  fe: ResolvedFrontend;
  /** The listener's number in its frontend (1-based), for log lines. */
  n: number;
  /** Its handshake layers, made at the first connection (the certificates load at bind). */
  hs: HandshakeLayer | null;
  /**
   * Its bound address (`host:port`), which names it to the HTTP workers;
   * kept from the bind, as a closed listener (a reload) no longer knows its port.
   */
  key: string;
}

/** A connection in its handshake (the owner task of its Connection). */
class Handshake {
  readonly conn: Connection;
  readonly served: Served;
  readonly src: string;
  readonly srcPort: number;
  readonly dst: string;
  readonly dstPort: number;
  readonly timer: ReturnType<typeof setTimeout>;
  /** While it waits for an HTTP worker (none linked): the same bound, `timeout client`. */
  waitTimer: ReturnType<typeof setTimeout> | undefined = undefined;
  settled = false;

  constructor(conn: Connection, served: Served, sock: AcceptedSock) {
    this.conn = conn;
    this.served = served;
    this.src = sock.remoteAddress ?? "-";
    this.srcPort = sock.remotePort ?? 0;
    this.dst = sock.localAddress ?? "";
    this.dstPort = sock.localPort ?? 0;
    this.timer = setTimeout(() => this.fail("timeout"), served.fe.clientTimeout);
  }

  /** The connection's events (Connection.wake()): only errors matter before the handoff. */
  woken(): void {
    if (!this.settled && (this.conn.flags & CO_FL_ERROR)) this.fail(null);
  }

  /** Ends the handshake phase once (failed or done); false if it had ended. */
  settle(): boolean {
    if (this.settled) return false;
    this.settled = true;
    clearTimeout(this.timer);
    shaking--;
    return true;
  }

  fail(why: string | null): void {
    if (!this.settle()) return;
    const c = this.conn;
    if (why === null && c.errCode === CO_ER_TLS) {
      const { fe, n } = this.served;
      post({
        t: "event",
        line: tlsFailLine(`${this.src}:${this.srcPort} ${fe.name}/${n}`, c.errMsg),
        level: "notice",
      });
    }
    c.close();
    this.served.li.release();
  }
}

/** Connection events go straight to their Handshake: there is no scheduler here. */
const SCHED = {
  wakeup(t: Task): void {
    (t as unknown as Handshake).woken();
  },
} as unknown as Scheduler;

/** The data layer of a finished handshake: hands the connection to an HTTP worker. */
const HANDOFF: DataLayer = {
  name: "handoff",
  attach(conn: Connection): void {
    const h = conn.owner as unknown as Handshake;
    h.settle();
    handOff(h);
  },
  connect(): void {},
  rcvBuf(): void {},
  rcvStop(): void {},
  sndBuf(): void {},
  shutw(): void {},
  close(conn: Connection): void {
    conn.sock?.destroy();
  },
};

const links = new Map<number, RingLink>();
/** Links to HTTP workers that are stopping: their connections go on, no new one is sent. */
const retired = new Set<number>();
/** Handshakes done while no HTTP worker was linked. */
let waiting: Handshake[] = [];
let next = 0;
let ringCap = 16384;
/** The configuration's grace period (`hard-stop-after`), for a stop that names none. */
let graceDefault = 0;
const served: Served[] = [];
let reply: SharedArrayBuffer | null = null;
let certStore: TlsCertStore | null | undefined = undefined;
/** Connections handed over and still open. */
let live = 0;
/** Connections in their handshake (a stop lets them finish and be handed over). */
let shaking = 0;
const seq = new Map<RingLink, number>();

function handOff(h: Handshake): void {
  const list = [...links].filter(([i]) => !retired.has(i)).map(([, l]) => l);
  if (list.length === 0) {
    // No HTTP worker (starting, or being replaced): it waits, within its client's timeout.
    waiting.push(h);
    h.waitTimer = setTimeout(() => {
      waiting = waiting.filter((x) => x !== h);
      h.conn.close();
      h.served.li.release();
    }, h.served.fe.clientTimeout);
    return;
  }
  const link = list[next++ % list.length];
  const id = (seq.get(link) ?? 0) + 1;
  seq.set(link, id);
  const t = h.conn.sock as tls.TLSSocket;
  const sab = ringPair(ringCap);
  link.send({
    t: "conn",
    id,
    sab,
    cap: ringCap,
    key: h.served.key,
    src: h.src,
    srcPort: h.srcPort,
    dst: h.dst,
    dstPort: h.dstPort,
    proxied: h.conn.proxied,
    tls: tlsFactsOf(t),
  });
  live++;
  new RingPump(
    t,
    link,
    id,
    new ByteRing(sab, 0, ringCap),
    new ByteRing(sab, ringDownOffset(ringCap), ringCap),
    () => {
      h.served.li.release();
      live--;
    },
  );
}

/** A connection accepted on `s`: its handshake starts (PROXY header first with accept-proxy). */
function onAccept(s: Served, sock: AcceptedSock): void {
  if (s.hs === null) {
    const tlsHs = tlsAcceptLayer(s.li.certs!, s.li.tls?.bind);
    s.hs = s.li.acceptProxy ? proxyAcceptLayer(tlsHs) : tlsHs;
  }
  const conn = new Connection(SCHED, HANDOFF, s.hs);
  shaking++;
  conn.owner = new Handshake(conn, s, sock) as unknown as Task;
  conn.attachAccepted(sock);
}

function addLink(index: number, port: MessagePort): void {
  links.get(index)?.close();
  links.set(index, new RingLink(port));
  const w = waiting;
  waiting = [];
  for (const h of w) {
    clearTimeout(h.waitTimer);
    if (h.conn.sock?.destroyed) h.served.li.release();
    else handOff(h);
  }
}

async function start(m: TlsWorkerStart): Promise<void> {
  reply = m.reply;
  for (const l of m.links) addLink(l.index, l.port);
  // It logs nothing itself (events go to the control thread): log functions' stand-ins stay idle.
  const cfg = resolveConfig(workerLogTargets(m.config, () => {}));
  ringCap = 1 << Math.ceil(Math.log2(Math.max(cfg.global.bufsize, 4096)));
  graceDefault = cfg.global.graceMs;
  const limit = new ConnLimit(cfg.global.maxconn);
  // Every bind in order (the control thread reads the ports of port-0 TLS binds).
  const out: (ListenAddress | undefined)[] = [];
  for (const fe of cfg.frontends) {
    for (const [i, b] of fe.binds.entries()) {
      if (b.tls === null) {
        out.push(undefined);
        continue;
      }
      const s: Served = { li: null as unknown as Listener, fe, n: i + 1, hs: null, key: "" };
      s.li = new Listener(b.addr, b.tls, [limit], {
        backlog: Math.min(Math.max(fe.maxconn || 1024, 128), 65535),
        onAccept: (sock) => onAccept(s, sock),
        reusePort: true,
      });
      s.li.acceptProxy = b.acceptProxy;
      try {
        await s.li.bind();
      } catch (err) {
        throw new SluiceError(
          "ERR_BIND",
          `Cannot bind "${addrFormat(b.addr)}" (TLS worker ${m.index + 1}): ${errMsg(err)}`,
        );
      }
      s.key = s.li.boundAddress();
      served.push(s);
      out.push({
        frontend: fe.name,
        address: s.li.boundAddress(),
        port: s.li.boundPort(),
        tls: true,
      });
    }
  }
  post({ t: "ready", addresses: out as ListenAddress[] });
}

/** The listeners' certificates for the runtime API's `set/commit ssl cert`. */
function sslCerts(): TlsCertStore | null {
  if (certStore === undefined) {
    const store = new TlsCertStore(served.map((s) => s.li.certs!));
    certStore = store.files().length === 0 ? null : store;
  }
  return certStore;
}

function unlisten(): void {
  for (const s of served) s.li.close();
}

async function stop(graceful: boolean, graceMs: number): Promise<void> {
  unlisten();
  const end = Date.now() + graceMs;
  // Connections accepted here are served, as HAProxy's old process serves
  // its own: handshakes under way finish and are handed over.
  if (graceful) await waitUntil(() => shaking === 0, end);
  for (const h of waiting) {
    clearTimeout(h.waitTimer);
    h.conn.close();
    h.served.li.release();
  }
  waiting = [];
  // The HTTP workers may close once their streams end: nothing more comes.
  for (const l of links.values()) l.sendDone();
  // The HTTP workers drain their streams; their closes end ours.
  if (graceful) await waitUntil(() => live === 0, end);
  for (const l of links.values()) l.close();
  post({ t: "stopped" });
  self.close();
}

self.onmessage = (e: MessageEvent<ToWorker>) => {
  const m = e.data;
  switch (m.t) {
    case "tls-start":
      start(m).catch((err) => {
        const code = err instanceof SluiceError ? err.code : "ERR_TLS";
        post({ t: "failed", code, message: errMsg(err) });
      });
      return;
    case "link":
      addLink(m.index, m.port);
      return;
    case "unlink":
      links.get(m.index)?.close();
      links.delete(m.index);
      retired.delete(m.index);
      return;
    case "retire":
      retired.add(m.index);
      // After the connections already sent to it: it may stop once they end.
      links.get(m.index)?.sendDone();
      return;
    case "ask": {
      let v: unknown = null;
      try {
        if (m.q.k === "ssl") {
          const target = { sslCerts } as unknown as AdminTarget;
          v = createAdminApi(target).exec(m.q.command, undefined, m.q.payload ?? undefined);
        } else if (m.q.k === "unlisten") unlisten();
      } catch (err) {
        v = { error: errMsg(err) };
      }
      writeReply(reply!, m.seq, v);
      return;
    }
    case "stop":
      stop(m.graceful, m.graceMs ?? graceDefault);
      return;
    case "crash":
      // Test hook: an exception no handler catches kills this isolate, as a bug would.
      setTimeout(() => {
        throw new Error("TLS worker crash requested (test)");
      });
      return;
  }
};
