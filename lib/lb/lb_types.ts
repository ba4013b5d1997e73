/**
 * The load-balancing interface. Every algorithm is one implementation of
 * `LbAlgo` in its own file and passes the shared contract suite
 * (tests/unit/lb_contract_test.ts).
 *
 * @module
 */

/** What an algorithm needs to know about a server. */
export interface LbServer {
  /** Server name. */
  readonly name: string;
  /** Position in the backend's server list, fixed for the server's life. */
  readonly lbIndex: number;
  /** Effective weight (0 means no new traffic). */
  readonly effWeight: number;
  /** True when the server may take a new connection now (up, not full). */
  lbUsable(): boolean;
}

/** A load-balancing algorithm over one backend's servers. */
export interface LbAlgo {
  /** Algorithm name as in the configuration ("roundrobin"). */
  readonly name: string;
  /** The server became usable (or its weight changed). */
  serverUp(srv: LbServer): void;
  /** The server is no longer usable. */
  serverDown(srv: LbServer): void;
  /** A connection to `srv` starts (for connection-counting algorithms). */
  takeConn(srv: LbServer): void;
  /** A connection to `srv` ended. */
  dropConn(srv: LbServer): void;
  /** Picks a server for a new connection, or null when none is usable. */
  pick(): LbServer | null;
}
