/**
 * The configuration model: what the CLI flags and the configuration file
 * produce and what `startSluice()` takes. Durations are milliseconds; a
 * timeout of 0 means "none". Every field not given takes the default named in
 * its documentation.
 *
 * @module
 */

/** Proxy mode: byte relay or HTTP/1.1 reverse proxy. */
export type ProxyMode = "tcp" | "http";

/** Access log formats: HAProxy-like text (tcplog for TCP, httplog for HTTP) or JSON. */
export type LogFormat = "tcplog" | "httplog" | "json";

/** Where access and event logs go. */
export interface LogConfig {
  /**
   * `"stdout"`, `"stderr"`, `"none"`, or a function receiving each line
   * (without newline), for embedding. Default `"stdout"`.
   */
  target?: "stdout" | "stderr" | "none" | ((line: string) => void);
  /** Line format. Default `"tcplog"` (HTTP frontends write httplog lines then). */
  format?: LogFormat;
  /**
   * Bytes of log lines that may wait for a slow sink before new lines are
   * dropped (and counted). Default 1 MiB.
   */
  queueBytes?: number;
}

/** Process-wide settings (HAProxy's `global` section). */
export interface GlobalConfig {
  /** Maximum concurrent connections over all frontends. Default 4096. */
  maxconn?: number;
  /** Size of each buffer in bytes (`tune.bufsize`). Default 16384. */
  bufsize?: number;
  /**
   * Maximum number of buffers (`tune.buffers.limit`). Each stream takes two;
   * when none are left, new streams wait. Default `2 * maxconn + 64`.
   */
  buffers?: number;
  /** Tasks run per scheduler turn (`tune.runqueue-depth`). Default 200. */
  runqueueDepth?: number;
  /** Most header fields in an HTTP message (`tune.http.maxhdr`); more gets 431. Default 101. */
  maxHdrs?: number;
  /**
   * Bytes of each buffer kept free for rewriting HTTP heads
   * (`tune.maxrewrite`): a head larger than `bufsize - maxRewrite` gets
   * 414/431. Default 1024.
   */
  maxRewrite?: number;
  /** Largest HTTP request body accepted, in bytes, 0 for no limit; larger gets 413. Default 0. */
  maxBody?: number;
  /**
   * How long an idle kept-alive server connection is kept for reuse, in ms
   * (0: never reuse). Keep it below the servers' own keep-alive timeout.
   * Default 4000.
   */
  serverIdleTimeout?: number;
  /** Most idle connections kept per server. Default 256. */
  serverIdleMax?: number;
  /**
   * Time active connections get to finish after a stop signal before they
   * are closed (like `hard-stop-after`). Default 10000.
   */
  graceMs?: number;
  /** Access log settings. */
  log?: LogConfig;
}

/** TLS termination on a listener. */
export interface BindTlsConfig {
  /** Certificate chain, PEM. */
  cert: string;
  /** Private key, PEM. */
  key: string;
}

/** One listening address of a frontend. */
export interface BindConfig {
  /** `host:port`, `[v6]:port`, `:port` or `unix:/path`. Port 0 picks a free port. */
  address: string;
  /** Terminate TLS with this certificate. */
  tls?: BindTlsConfig;
}

/** Timeouts; frontends use `client`, backends the others. */
export interface TimeoutsConfig {
  /** Inactivity of the client side. Default 30000. */
  client?: number;
  /** Inactivity of the server side. Default 30000. */
  server?: number;
  /** Time allowed to establish a server connection, per attempt. Default 5000. */
  connect?: number;
  /**
   * Inactivity of an established tunnel (both sides), replacing `client` and
   * `server` once the server connection is up in TCP mode. Default none.
   */
  tunnel?: number;
  /** Time a stream may wait in a queue for a server slot. Default: `connect`. */
  queue?: number;
  /**
   * HTTP: time allowed for a whole request head to arrive (slowloris
   * protection); past it the client gets 408. Default 10000.
   */
  httpRequest?: number;
  /** HTTP: idle time allowed between two requests on a connection. Default 10000. */
  httpKeepAlive?: number;
}

/** HTTP settings of a frontend. */
export interface HttpFrontendConfig {
  /** Add `X-Forwarded-For: <client address>` to requests. Default true. */
  forwardFor?: boolean;
  /** Set `X-Forwarded-Proto: http|https` (a client's own is replaced). Default true. */
  forwardedProto?: boolean;
  /** Add an RFC 7239 `Forwarded: for=...;proto=...` header (a client's own is replaced). Default false. */
  forwarded?: boolean;
  /**
   * Replacement responses, by status: complete raw HTTP responses
   * ("HTTP/1.1 503 ...\r\n...\r\n\r\nbody"), like HAProxy's errorfile.
   */
  errorFiles?: Record<number, string | Uint8Array>;
}

/** A frontend: where clients connect. */
export interface FrontendConfig {
  /** Unique name, used in logs and stats. */
  name: string;
  /** Proxy mode. Default `"http"`. */
  mode?: ProxyMode;
  /** Listening addresses (at least one). */
  binds: BindConfig[];
  /** Maximum concurrent connections of this frontend; excess ones wait in the backlog. Default: global maxconn. */
  maxconn?: number;
  /** Timeouts (`client`, `httpRequest`, `httpKeepAlive` apply here). */
  timeouts?: TimeoutsConfig;
  /** HTTP settings (HTTP mode). */
  http?: HttpFrontendConfig;
  /** Name of the backend that receives the traffic. */
  defaultBackend: string;
}

/** TLS towards a server. */
export interface ServerTlsConfig {
  /**
   * CA certificates (PEM) trusted to verify the server. When given, only
   * these are trusted (like HAProxy's `ca-file`); otherwise the default roots.
   */
  ca?: string[];
  /** Name sent as SNI and checked against the certificate. Default: the server's host. */
  sni?: string;
  /** Check the certificate's name (the chain is checked unless `verify` is "none"). Default true. */
  verifyHost?: boolean;
  /**
   * `"required"` (default) checks the certificate chain; `"none"` accepts any
   * certificate, like HAProxy's `verify none` (encryption without
   * authentication: only for servers on a trusted network).
   */
  verify?: "required" | "none";
}

/** A server of a backend. */
export interface ServerConfig {
  /** Name, unique in its backend. */
  name: string;
  /** `host:port`, `[v6]:port`, `unix:/path`, or `tls://host:port`. */
  address: string;
  /** Weight for load balancing, 0 to 256. Default 1. */
  weight?: number;
  /** Maximum concurrent connections to this server, 0 for none. Default 0. */
  maxconn?: number;
  /** Connect with TLS (also implied by a `tls://` address). */
  tls?: ServerTlsConfig;
}

/** Load-balancing algorithms. */
export type BalanceAlgo = "roundrobin";

/** A backend: a pool of servers. */
export interface BackendConfig {
  /** Unique name, used in logs and stats. */
  name: string;
  /** Proxy mode; must match the frontends using it. Default `"http"`. */
  mode?: ProxyMode;
  /** Algorithm choosing the server of each new connection. Default `"roundrobin"`. */
  balance?: BalanceAlgo;
  /** Connection attempts after a failed one (to the next server). Default 3. */
  retries?: number;
  /** Timeouts (`server`, `connect`, `tunnel`, `queue` apply here). */
  timeouts?: TimeoutsConfig;
  /** The servers (at least one). */
  servers: ServerConfig[];
}

/** A whole configuration. */
export interface SluiceConfig {
  /** Process-wide settings. */
  global?: GlobalConfig;
  /** Frontends (at least one). */
  frontends: FrontendConfig[];
  /** Backends referenced by the frontends. */
  backends: BackendConfig[];
}
