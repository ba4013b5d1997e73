/**
 * A server of a backend: address, how to connect (raw or TLS), weight and
 * limits, and its counters.
 *
 * @module
 */
import type { Address } from "../core/addr_types.ts";
import type { Connection } from "../conn/connection.ts";
import type { DataLayer, HandshakeLayer } from "../conn/conn_types.ts";
import type { LbServer } from "../lb/lb_types.ts";
import type { IdleOwner } from "./idle_conns.ts";
import type { StreamTarget } from "../stream/stream.ts";
import { Counters } from "./counters.ts";

/** Admin state: ready for traffic. */
export const SRV_ADMIN_READY = 0;
/** Admin state: no new streams, existing ones finish. */
export const SRV_ADMIN_DRAIN = 1;
/** Admin state: no traffic at all. */
export const SRV_ADMIN_MAINT = 2;

/** One server. */
export class Server implements LbServer, StreamTarget, IdleOwner {
  readonly name: string;
  readonly addr: Address;
  readonly lbIndex: number;
  /** Data layer for connections to this server. */
  readonly xprt: DataLayer;
  /** Handshake layer (TLS) or null. */
  readonly hs: HandshakeLayer | null;
  /** Configured weight. */
  weight: number;
  /** Maximum concurrent connections, 0 for none. */
  maxconn: number;
  /** SRV_ADMIN_* state. */
  admin = SRV_ADMIN_READY;
  /** Current connections (assigned streams). */
  cur = 0;
  /** Traffic counters. */
  readonly counters: Counters = new Counters();
  /** Idle kept-alive connections (HTTP), most recently used last. */
  readonly idle: Connection[] = [];
  /** When each idle connection was parked. */
  readonly idleSince: number[] = [];

  constructor(
    name: string,
    addr: Address,
    lbIndex: number,
    layers: { xprt: DataLayer; hs: HandshakeLayer | null },
    opts: { weight: number; maxconn: number },
  ) {
    this.name = name;
    this.addr = addr;
    this.lbIndex = lbIndex;
    this.xprt = layers.xprt;
    this.hs = layers.hs;
    this.weight = opts.weight;
    this.maxconn = opts.maxconn;
  }

  /** Weight used for new traffic (0 when drained or in maintenance). */
  get effWeight(): number {
    return this.admin === SRV_ADMIN_READY ? this.weight : 0;
  }

  /** True when the server can take one more stream now. */
  lbUsable(): boolean {
    return this.admin === SRV_ADMIN_READY &&
      (this.maxconn === 0 || this.cur < this.maxconn);
  }
}
