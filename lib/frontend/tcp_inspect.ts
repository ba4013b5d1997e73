/**
 * The analyser of a TCP-mode stream whose frontend has `tcp-request
 * content` rules or `use_backend` rules (HAProxy's tcp_inspect_request()
 * then process_switching_rules()): it holds the request bytes, without
 * connecting, until the content rules decide on them — at once, or after
 * more bytes, or when they become final (client closed, buffer full,
 * `tcp-request inspect-delay` over) — then either closes the connection
 * (`reject`) or picks the backend with the `use_backend` rules, evaluated
 * once on the bytes there, and leaves: from then on the stream is a plain
 * relay (`setTcpMode()`), and the held bytes are the first it forwards.
 *
 * One per stream (it holds the stream's inspection state: the expiry and
 * the incremental ClientHello scan); the rules are the frontend's.
 *
 * @module
 */
import { TICK_ETERNITY, tickAdd } from "../core/time.ts";
import { CF_SHUTR } from "../buf/channel_types.ts";
import { SF_ERR_PRXCOND, type StreamAnalyser } from "../stream/stream_types.ts";
import type { HttpStream, HttpTxn } from "../http/http_txn.ts";
import type { AclContent, AclCtx } from "../rules/acl_types.ts";
import { TlsHelloScan } from "../rules/tls_hello.ts";
import {
  runTcpContentRules,
  TCP_REJECT,
  TCP_WAIT,
  type TcpContentRule,
} from "../rules/tcp_rules.ts";
import type { Backend } from "../backend/backend.ts";
import { useBackendPick, type UseBackendRt } from "./use_backend.ts";

/** A TCP frontend's compiled content rules and routing. */
export interface TcpRoutingRt {
  readonly content: readonly TcpContentRule[];
  /** `tcp-request inspect-delay` in ms (0: decide at once on what is there). */
  readonly inspectDelay: number;
  readonly useBackends: readonly UseBackendRt[];
  /** The TCP-mode backends, for names built per connection (`use_backend be_%[...]`). */
  readonly byName: ReadonlyMap<string, Backend>;
}

/** What the analyser needs from its frontend. */
export interface TcpInspectHost {
  /** The default backend. */
  readonly backend: Backend;
  /** The (reused) rule context of `strm`, with `content` as its bytes. */
  contentCtx(strm: HttpStream, content: AclContent): AclCtx;
  /** Counts a connection a `tcp-request content reject` rule closed. */
  denied(strm: HttpStream): void;
}

/** One stream's content inspection. */
export class TcpInspect implements StreamAnalyser<HttpTxn> {
  readonly #host: TcpInspectHost;
  readonly #tcp: TcpRoutingRt;
  /** Tick the inspect-delay ends, -1 before the rules first waited. */
  #exp = -1;
  readonly #content: AclContent = {
    a: new Uint8Array(0),
    pos: 0,
    len: 0,
    cap: 0,
    final: false,
    miss: false,
    hello: new TlsHelloScan(),
  };

  constructor(host: TcpInspectHost, tcp: TcpRoutingRt) {
    this.#host = host;
    this.#tcp = tcp;
  }

  process(strm: HttpStream, now: number): void {
    // A PROXY header or a TLS handshake still in progress: no bytes yet.
    if (!strm.scf.conn!.isReady()) return;
    const host = this.#host, tcp = this.#tcp, req = strm.req, buf = req.buf, c = this.#content;
    c.a = buf.area;
    c.pos = buf.inPos();
    // Nothing is forwarded while inspecting, so the input starts at the
    // start of the area and never wraps; if it ever did, what is
    // contiguous is all the rules get (and they do not wait).
    c.len = buf.inContig();
    c.cap = buf.size;
    c.final = (req.flags & CF_SHUTR) !== 0 || buf.room() === 0 || c.len < buf.in ||
      tcp.inspectDelay === 0 || (this.#exp >= 0 && now >= this.#exp);
    const ctx = host.contentCtx(strm, c);
    if (tcp.content.length > 0) {
      const verdict = runTcpContentRules(tcp.content, ctx);
      if (verdict === TCP_WAIT) {
        // The delay counts from the first wait (HAProxy's rules_exp).
        if (this.#exp < 0) this.#exp = tickAdd(now, tcp.inspectDelay);
        strm.anaExp = this.#exp;
        return;
      }
      strm.anaExp = TICK_ETERNITY;
      if (verdict === TCP_REJECT) {
        strm.ana = null;
        host.denied(strm);
        strm.abort(SF_ERR_PRXCOND);
        return;
      }
    }
    // use_backend decides once, on the bytes there (HAProxy's SMP_OPT_FINAL).
    c.final = true;
    const be = useBackendPick(tcp.useBackends, ctx, { byName: tcp.byName, dflt: host.backend });
    ctx.content = null;
    strm.ana = null;
    strm.switchBackend(be);
    strm.setTcpMode();
  }

  connectFailed(_strm: HttpStream, _now: number): void {
    // The analyser leaves before the stream connects.
  }

  reused(_strm: HttpStream): void {
    // TCP streams never reuse a server connection.
  }

  end(_strm: HttpStream, _now: number): void {
    // Nothing pending: the frontend logs the stream as any TCP stream.
  }
}
