/**
 * The configuration model: what the CLI flags and the configuration file
 * produce and what `startSluice()` takes. Durations are milliseconds; a
 * timeout of 0 means "none". Every field not given takes the default named in
 * its documentation.
 *
 * @module
 */
import type { FrontendHooks } from "../backend/hook_types.ts";

// The hook API is declared where it runs (frontends and backends run hooks,
// and the configuration only carries them); it is part of this model too.
export type { FrontendHooks, RequestContext, ResponseContext } from "../backend/hook_types.ts";

/** Proxy mode: byte relay or HTTP/1.1 reverse proxy. */
export type ProxyMode = "tcp" | "http";

/** Access log formats: HAProxy-like text (tcplog for TCP, httplog for HTTP) or JSON. */
export type LogFormat = "tcplog" | "httplog" | "json";

/** A syslog level, most severe first (HAProxy's `log` levels). */
export type LogLevel =
  | "emerg"
  | "alert"
  | "crit"
  | "err"
  | "warning"
  | "notice"
  | "info"
  | "debug";

/**
 * One log target (HAProxy's `log TARGET [len N] [format F] FACILITY [LEVEL
 * [MINLEVEL]]`): where lines go, their header, and which levels it takes.
 * Access lines are `info` (`err` for errors with `separateErrors`); events
 * carry their own level (server up `notice`, down `alert`, ...).
 */
export interface LogTargetConfig {
  /**
   * `"stdout"`, `"stderr"`, a function receiving each line, `{ file }`, or
   * syslog: `{ syslog: "host:port" }` (UDP) or `{ syslog: "unix:/path" }`
   * (a local datagram socket), as in `LogConfig.target`.
   */
  target:
    | "stdout"
    | "stderr"
    | ((line: string) => void)
    | { file: string }
    | { syslog: string; facility?: string };
  /**
   * The header before each line: `"raw"` (none), `"local"` (`<PRI>date
   * sluice[pid]: `, HAProxy's default), `"rfc3164"` (the same with the host
   * name), `"rfc5424"`, `"priority"` (`<PRI>`), `"short"` (`<LEVEL>`),
   * `"timed"` (`<LEVEL>` and an ISO date), `"iso"` (an ISO date). Default:
   * `"rfc5424"` for syslog targets, `"raw"` for the others.
   */
  format?: "raw" | "local" | "rfc3164" | "rfc5424" | "priority" | "short" | "timed" | "iso";
  /** Syslog facility (`"local0"` … `"local7"`, `"daemon"`, ...). Default `"local0"`. */
  facility?: string;
  /** Least severe level sent. Default `"debug"` (every line). */
  level?: LogLevel;
  /** More severe lines are sent at this level instead. Default `"emerg"`. */
  minLevel?: LogLevel;
  /** Longest line in bytes, header included, 80 to 65535; longer ones are cut. Default: no limit. */
  maxLen?: number;
}

/** Where access and event logs go. */
export interface LogConfig {
  /**
   * `"stdout"`, `"stderr"`, `"none"`, a function receiving each line
   * (without newline) for embedding, `{ file }` (appended; reopened by the
   * runtime API's `reopen logs`), or syslog (RFC 5424, one message per line)
   * with `facility` a name such as `"local0"` (the default): `syslog` is a
   * UDP server `"host:port"` or a local unix datagram socket
   * `"unix:/run/systemd/journal/dev-log"` (needs Deno's unstable net API:
   * `--unstable-net`, set by sluice's deno.json; a path under /dev such as
   * `/dev/log` also needs `--allow-all`). Default `"stdout"`.
   */
  target?:
    | "stdout"
    | "stderr"
    | "none"
    | ((line: string) => void)
    | { file: string }
    | { syslog: string; facility?: string };
  /**
   * Several targets, each with its header and levels (HAProxy's several
   * `log` lines in `global`); instead of `target`.
   */
  targets?: LogTargetConfig[];
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
  /**
   * Large buffers that a channel moving bulk data takes while one is free,
   * and gives back when its traffic is small again: a 64 KiB body then
   * moves in one receive and one send instead of four. Each is 4 × bufsize
   * with `io` "node" (what node:net delivers at most per read) and 16 ×
   * with "ffi". Never waited for. 0 disables them. Default 256 (16 MiB at
   * most with "node", 64 MiB with "ffi").
   */
  largeBuffers?: number;
  /**
   * How plain TCP connections move bytes (`tune.io`, a sluice keyword):
   * `"ffi"` (libc sockets and epoll through Deno FFI: faster, fairer; Linux
   * on x86-64 or arm64, needs `--allow-ffi`) or `"node"` (node:net).
   * Default: the environment's `SLUICE_IO`, else "ffi" where it can run and
   * "node" elsewhere. TLS, PROXY protocol and unix sockets use node:net
   * either way.
   */
  io?: "node" | "ffi";
  /**
   * Worker threads (HAProxy's `nbthread`), 1 to 64: each runs its own
   * scheduler, buffers, listeners (SO_REUSEPORT) and streams, under a
   * control thread that runs the health checks and the runtime API (see
   * docs/threads.md). Default: the number of cores the process may use when
   * started from the command line or `{ configFile }`, 1 for a configuration
   * object given to `startSluice()` (its hooks are functions, which cannot
   * cross threads: see `StartOptions.hooksModule`).
   */
  nbthread?: number;
  /**
   * Keeps TLS keys apart from HTTP (sluice's `tls-isolation on`): TLS
   * listeners are served by dedicated TLS worker threads, which alone hold
   * the certificates and keys and do every handshake, and hand the
   * plaintext to the HTTP worker threads through shared-memory rings. HTTP
   * workers get neither the key material nor permission to read it. Needs
   * `--unstable-worker-options` like worker threads. See docs/threads.md.
   * Default false.
   */
  tlsIsolation?: boolean;
  /** TLS worker threads under `tlsIsolation` (sluice's `tls-threads`), 1 to 64. Default 1. */
  tlsThreads?: number;
  /** Tasks run per scheduler turn (`tune.runqueue-depth`). Default 200. */
  runqueueDepth?: number;
  /**
   * Days before a certificate (bind or server `crt`)'s notAfter from which a warning is
   * logged, checked at start and then once a day (sluice's
   * `ssl-cert-expiry-warning`); 0 turns the warning off. Default 30.
   */
  sslCertExpiryWarning?: number;
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
   * Time active connections get to finish after a stop signal before they
   * are closed (like `hard-stop-after`). Default 10000.
   */
  graceMs?: number;
  /** Access log settings. */
  log?: LogConfig;
  /** A stats listener (HTML page, CSV, JSON, Prometheus `/metrics`); none by default. */
  stats?: StatsConfig;
  /**
   * The runtime API on a unix socket (HAProxy's `stats socket PATH`): `show
   * stat`, `set server`, ... Created with mode 0600 unless `mode` says
   * otherwise; an interactive session idle for `timeout` ms is closed
   * (`stats timeout`, default 10000). None by default.
   */
  adminSocket?: { path: string; mode?: number; timeout?: number };
  /**
   * A file sluice writes its process id to once every listener is bound, and
   * removes when it stops (HAProxy's `pidfile`, the CLI's `-p`). None by
   * default.
   */
  pidfile?: string;
}

/** The stats listener. It binds only where asked; keep it on a private address. */
export interface StatsConfig {
  /** `host:port` to listen on (`127.0.0.1:8404`). */
  address: string;
  /** `user:password` required with basic auth. Default: none. */
  auth?: string;
  /** Client networks allowed (CIDR, e.g. `10.0.0.0/8`, `::1`). Default: any. */
  allow?: string[];
  /** HTML page refresh interval in seconds (0: none). Default 10. */
  refresh?: number;
}

/** TLS termination on a listener. */
export interface BindTlsConfig {
  /** Certificate chain, PEM: the default one. */
  cert: string;
  /** Private key, PEM. */
  key: string;
  /**
   * SNI filters of the default certificate (a `crt-list` line's): names
   * (`*.example.com` wildcards) it is chosen for instead of the names it
   * holds, `!name` to leave one out (`!*`: chosen only when nothing else
   * matches). The same field on `sniCerts`.
   */
  filters?: string[];
  /**
   * More certificates, chosen by the server name the client sends (SNI):
   * each serves the DNS names it holds (subjectAltName, else CN;
   * `*.example.com` wildcards cover one label). The first holding a name
   * wins; no SNI or no match gets `cert`. HAProxy's several `crt`.
   */
  sniCerts?: {
    cert: string;
    key: string;
    filters?: string[];
    file?: string;
    crtList?: CrtListRef;
  }[];
  /**
   * Set by sluice itself in the configuration it gives HTTP worker threads
   * under `global.tlsIsolation`: the listener's TLS runs in a TLS worker,
   * and `cert`/`key` are empty. Not for configurations.
   */
  isolated?: boolean;
  /**
   * Client certificates (HAProxy's `verify`): `"none"` does not ask for
   * one; `"optional"` and `"required"` do, and check the one sent against
   * `ca` (and `crl`): a certificate that fails closes the connection after
   * the handshake unless its error is ignored (`caIgnoreErr`,
   * `crtIgnoreErr`); `"required"` also refuses a client that sends none.
   * Default `"none"`.
   */
  verify?: "none" | "optional" | "required";
  /** Trusted CA certificates for client certificates, PEM (`ca-file`). Needed by `verify`. */
  ca?: string;
  /** Certificate revocation lists, PEM (`crl-file`): each CA of a chain needs its list. */
  crl?: string;
  /** X509_V_ERR codes ignored at depth > 0, or `"all"` (`ca-ignore-err`). */
  caIgnoreErr?: "all" | number[];
  /** X509_V_ERR codes ignored for the client's own certificate, or `"all"` (`crt-ignore-err`). */
  crtIgnoreErr?: "all" | number[];
  /** ALPN protocols offered, in order of preference (`alpn`); HTTP/2 is refused. */
  alpn?: string[];
  /** Refuse a client whose SNI no certificate holds, or without SNI (`strict-sni`). */
  strictSni?: boolean;
  /**
   * The file `cert` and `key` came from: the name the runtime API's `show
   * ssl cert` / `set ssl cert` use (HAProxy's `crt` file). Unnamed
   * certificates are not listed there. Set by configuration files.
   */
  file?: string;
  /**
   * The `crt-list` file (or `crt` directory) the certificate came from and
   * its line there (0 for a directory's files): what the runtime API's
   * `show ssl crt-list` lists. The same field on `sniCerts`. Set by
   * configuration files.
   */
  crtList?: CrtListRef;
  /**
   * Oldest protocol version accepted (HAProxy's `ssl-min-ver`). sluice's
   * TLS has TLS 1.2 and 1.3 only. Default `"TLSv1.2"`.
   */
  minVersion?: "TLSv1.2" | "TLSv1.3";
  /** Newest protocol version accepted (HAProxy's `ssl-max-ver`). Default `"TLSv1.3"`. */
  maxVersion?: "TLSv1.2" | "TLSv1.3";
}

/** Where a certificate was listed: a `crt-list` file and line, or a `crt` directory (line 0). */
export interface CrtListRef {
  /** The list's name as configured (`crt-base` applied), or the directory's, without trailing `/`. */
  file: string;
  /** Line number in the list (1-based); 0 for a directory's files. */
  line: number;
}

/** One listening address of a frontend. */
export interface BindConfig {
  /** `host:port`, `[v6]:port`, `:port` or `unix:/path`. Port 0 picks a free port. */
  address: string;
  /** Terminate TLS with this certificate. */
  tls?: BindTlsConfig;
  /**
   * Expect a PROXY protocol header (v1 or v2) first on each connection, as
   * sent by a load balancer in front (HAProxy's `accept-proxy`): the client
   * address it gives is used everywhere (logs, ACLs, X-Forwarded-For) except
   * `tcp-request connection` rules, which see the real peer. A connection
   * without a valid header is closed. Default false.
   */
  acceptProxy?: boolean;
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
  /**
   * HTTP: how long `http-request tarpit` holds a request before answering
   * (HAProxy's `timeout tarpit`; the frontend's for its rules, the
   * backend's for its own). Default: `connect`.
   */
  tarpit?: number;
}

/**
 * HTTP connection handling (HAProxy's `option http-keep-alive`, `option
 * http-server-close`, `option httpclose`): `"keep-alive"` keeps both
 * connections between requests; `"server-close"` closes the server
 * connection after each response (requests go with `Connection: close`) and
 * keeps the client's; `"close"` closes both after the response. The
 * stronger of the frontend's and the backend's applies.
 */
export type ConnectionMode = "keep-alive" | "server-close" | "close";

/** `option forwardfor` with its options. */
export interface ForwardForConfig {
  /** The header to add instead of `X-Forwarded-For` (HAProxy's `header NAME`). */
  header?: string;
  /** Clients in this network (`10.0.0.0/8`, `::1`) get no header (HAProxy's `except NET`). */
  except?: string;
  /** Only add the header when the request has none (HAProxy's `if-none`). Default false. */
  ifNone?: boolean;
}

/** HTTP settings of a frontend. */
export interface HttpFrontendConfig {
  /**
   * Add `X-Forwarded-For: <client address>` to requests (`true`), with
   * options, or not (`false`). When the backend asks too, the header is
   * added once, named as the backend says; `ifNone` holds only when both
   * say so; either's `except` network gets none. Default true.
   */
  forwardFor?: boolean | ForwardForConfig;
  /** Connection handling, see ConnectionMode. Default `"keep-alive"`. */
  connectionMode?: ConnectionMode;
  /**
   * Wait for the whole request body (or a full buffer) before connecting
   * to a server, answering `Expect: 100-continue` itself (HAProxy's `option
   * http-buffer-request`); bounded by `timeouts.httpRequest` (408).
   * Default false.
   */
  bufferRequest?: boolean;
  /**
   * A path (or, not starting with "/", a whole request target) answered
   * 200 at once, before any rule, and not logged: for a load balancer's
   * health probe of sluice itself (HAProxy's `monitor-uri`). Default none.
   */
  monitorUri?: string;
  /** Set `X-Forwarded-Proto: http|https` (a client's own is replaced). Default true. */
  forwardedProto?: boolean;
  /** Add an RFC 7239 `Forwarded: for=...;proto=...` header (a client's own is replaced). Default false. */
  forwarded?: boolean;
  /**
   * Replacement responses, by status: complete raw HTTP responses
   * ("HTTP/1.1 503 ...\r\n...\r\n\r\nbody"), like HAProxy's errorfile.
   */
  errorFiles?: Record<number, string | Uint8Array>;
  /** HTTP compression of responses (HAProxy's `compression`). Default none. */
  compression?: CompressionConfig;
}

/**
 * HTTP compression (HAProxy's `compression algo|type|offload`): a response
 * is compressed when the client accepts one of the algorithms and HAProxy's
 * conditions hold (HTTP/1.1, status 200-203, a body, no Content-Encoding,
 * no `Cache-Control: no-transform`, a listed Content-Type). A backend's
 * `algos` and `types` replace the frontend's when it sets them.
 */
export interface CompressionConfig {
  /**
   * Algorithms, in order of preference (`Accept-Encoding: *` gets the
   * first): "gzip", "deflate", "raw-deflate" (announced as deflate),
   * "identity" (no encoding, used when nothing else is accepted), and "br"
   * (a sluice extension). Empty or absent: no compression.
   */
  algos?: ("identity" | "gzip" | "deflate" | "raw-deflate" | "br")[];
  /** Content-Type prefixes to compress, case-insensitive. Empty or absent: any type. */
  types?: string[];
  /** Remove Accept-Encoding from requests that negotiated an algorithm (the server does not compress). Default false. */
  offload?: boolean;
}

/**
 * A rule in HAProxy's syntax: the text after the keyword
 * (`"deny deny_status 429 if { src 10.0.0.0/8 }"`), or its words already
 * split (what the configuration file parser produces, with `where` =
 * `file:line` for error messages).
 */
export type RuleText = string | { words: string[]; where?: string };

/** Routing and rules of a frontend (HAProxy's `acl`, `use_backend`, `http-request`, `http-response`, `tcp-request`). */
export interface FrontendRules {
  /** Named ACLs: `"is_api path_beg /api"` (the same name twice ORs them). */
  acls?: RuleText[];
  /** `use_backend` rules in order: `"api if is_api"`; the first that matches picks the backend, else `defaultBackend`. */
  useBackends?: RuleText[];
  /** `http-request` rules in order: `"deny if { src 10.0.0.0/8 }"` (actions: docs/keywords.md). */
  httpRequest?: RuleText[];
  /** `http-response` rules in order: `"del-header Server"` (actions: docs/keywords.md). */
  httpResponse?: RuleText[];
  /**
   * `tcp-request` rules: `"connection accept|reject [if|unless cond]"`,
   * checked at accept time on `src` (any mode), and (TCP mode) `"content
   * accept|reject [if|unless cond]"`, checked on the request bytes as they
   * arrive, waiting up to `inspectDelay` for the bytes a condition needs
   * (`req.ssl_sni`, `req.payload(0,4)`...). In each kind the first match
   * decides, none matching accepts.
   */
  tcpRequest?: RuleText[];
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
  /**
   * Name of the backend that receives the traffic (unless a `use_backend`
   * rule picks another). HTTP frontends may have none: requests no rule
   * routes or answers get 503, as in HAProxy (e.g. a frontend that only
   * serves `use-service prometheus-exporter`).
   */
  defaultBackend?: string;
  /** Routing and rules (`use_backend` also in TCP mode, on the request's first bytes). */
  rules?: FrontendRules;
  /**
   * How long (ms) `tcp-request content` rules may hold the connection
   * waiting for the request bytes their conditions need (HAProxy's
   * `tcp-request inspect-delay`); at the end they decide on what is there.
   * Default 0: they decide at once on what has arrived.
   */
  inspectDelay?: number;
  /** HTTP: TypeScript hooks (embedding only). */
  hooks?: FrontendHooks;
  /** Access logs of this frontend: targets, format, captures, unique ids. */
  log?: FrontendLogConfig;
}

/** A frontend's logging (HAProxy's `log`, `log-format`, `capture`, `unique-id-format`, ...). */
export interface FrontendLogConfig {
  /**
   * Where its lines go: `"global"` stands for the global targets; `[]` logs
   * nothing (HAProxy's proxy without `log` lines). Default `["global"]`.
   */
  targets?: ("global" | LogTargetConfig)[];
  /**
   * A log-format string (HAProxy's `log-format`: `%ci`, `%{+Q}r`,
   * `%[fetch]`...). Default: the httplog line in HTTP mode, the tcplog line
   * in TCP mode. Text logs only (not with `global.log.format` "json").
   */
  format?: string;
  /** RFC 5424 structured data of each line (`log-format-sd`), for targets of format "rfc5424". */
  formatSd?: string;
  /**
   * Do not log connections that sent nothing (`option dontlognull`): TCP
   * connections without a byte from the client, HTTP connections closed or
   * timed out before a request. Default false.
   */
  dontLogNull?: boolean;
  /**
   * Log errors (a termination state other than a clean or local end,
   * retries, redispatches, 5xx) at level `err` instead of `info`
   * (`option log-separate-errors`). Default false.
   */
  separateErrors?: boolean;
  /**
   * HTTP: request headers whose last value is logged (`capture request
   * header NAME len N`), in `{a|b}` after the queue counts of httplog, or
   * with `%hr`; each value cut to `len` characters.
   */
  captureRequest?: { name: string; len: number }[];
  /** HTTP: the same for response headers (`capture response header`; `%hs`). */
  captureResponse?: { name: string; len: number }[];
  /** HTTP: a log-format string making each request's unique id (`unique-id-format`; `%ID`). */
  uniqueIdFormat?: string;
  /** HTTP: a request header carrying the unique id to the server (`unique-id-header`). */
  uniqueIdHeader?: string;
}

/** A backend's logging: where its events go, and health check logging. */
export interface BackendLogConfig {
  /**
   * Where its events (server state changes) go: `"global"` stands for the
   * global targets. Default `["global"]`; `[]` sends them to the global
   * targets too (HAProxy prints them on standard error then).
   */
  targets?: ("global" | LogTargetConfig)[];
  /**
   * Log every change of a server's check result, not only the state changes
   * (`option log-health-checks`). Default false.
   */
  healthChecks?: boolean;
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
  /**
   * A sample expression (HAProxy's `sni`, e.g. `req.hdr(host),field(1,:)`)
   * evaluated on each request of an HTTP backend: its value is sent as SNI
   * and checked against the certificate (no value, or one that is no host
   * name: no SNI and only the chain is checked). Connections are reused
   * only for requests with the same name. Not with `sni`, nor in mode tcp.
   */
  sniExpr?: string;
  /** Check the certificate's name (the chain is checked unless `verify` is "none"). Default true. */
  verifyHost?: boolean;
  /**
   * The name the certificate is checked against when no SNI is sent
   * (HAProxy's `verifyhost`); also used by health checks. Default: none.
   */
  verifyHostName?: string;
  /**
   * `"required"` (default) checks the certificate chain; `"none"` accepts any
   * certificate, like HAProxy's `verify none` (encryption without
   * authentication: only for servers on a trusted network).
   */
  verify?: "required" | "none";
  /** Oldest protocol version offered (HAProxy's `ssl-min-ver`): `"TLSv1.2"` (default) or `"TLSv1.3"`. */
  minVersion?: "TLSv1.2" | "TLSv1.3";
  /** Newest protocol version offered (HAProxy's `ssl-max-ver`). Default `"TLSv1.3"`. */
  maxVersion?: "TLSv1.2" | "TLSv1.3";
  /**
   * Client certificate chain (PEM) shown when the server asks for one
   * (HAProxy's `crt`); needs `key`. Default: none.
   */
  cert?: string;
  /** Private key (PEM) of `cert`. */
  key?: string;
  /** The file `cert` and `key` came from: the runtime API's name for them (`set ssl cert`). */
  certFile?: string;
  /**
   * Protocols offered with ALPN, in order of preference (HAProxy's `alpn`).
   * sluice speaks HTTP/1.x to servers, so an HTTP backend may offer only
   * `"http/1.1"` and `"http/1.0"`; a TCP backend anything. Default: no ALPN.
   */
  alpn?: string[];
}

/** A health check (HAProxy's `check` with `option httpchk` / `http-check expect`). */
export interface CheckConfig {
  /** `"tcp"`: a connection (and TLS handshake) succeeds; `"http"`: a request gets the expected answer. Default `"tcp"`. */
  type?: "tcp" | "http";
  /** Interval between checks while the server is up. Default 2000. */
  inter?: number;
  /** Interval while the server is changing state (between the first failure and down, or the first success and up). Default: `inter`. */
  fastinter?: number;
  /** Interval while the server is down. Default: `inter`. */
  downinter?: number;
  /** Consecutive successes that bring a down server up. Default 2. */
  rise?: number;
  /** Consecutive failures that bring an up server down. Default 3. */
  fall?: number;
  /** Time a check may take (HAProxy's `timeout check`). Default: `inter`. */
  timeout?: number;
  /** Check this port instead of the traffic port. */
  port?: number;
  /** Check over TLS (default: like the traffic, when the server uses TLS). */
  tls?: boolean;
  /** SNI of TLS checks (HAProxy's `check-sni`). Default: the server's `tls.sni`, else none. */
  sni?: string;
  /** HTTP check request and expectation. */
  http?: {
    /** Default `"GET"`. */
    method?: string;
    /** Default `"/"`. */
    path?: string;
    /** Host header. Default: the server's address. */
    host?: string;
    /** Expected status: one code (200) or an inclusive range ([200, 399]). Default [200, 399]. */
    expectStatus?: number | [number, number];
    /** Text the response body must contain (first 16 KiB). */
    expectString?: string;
    /**
     * HAProxy's `http-check expect [!] status|rstatus|string|rstring PATTERN`:
     * this rule alone decides (no status range is checked besides it), so
     * `expectStatus` and `expectString` must be absent. `status` takes codes
     * and ranges (`"200-299,302"`), `rstatus` a regular expression on the
     * three digits, `string` text the body contains, `rstring` a regular
     * expression on the body (first 16 KiB); `negate` fails the check when
     * the pattern is found.
     */
    expect?: {
      match: "status" | "rstatus" | "string" | "rstring";
      pattern: string;
      negate?: boolean;
    };
  };
  /**
   * Send a PROXY protocol header (`PROXY UNKNOWN`, or v2 LOCAL: a check has
   * no client) first on check connections, in the server's `sendProxy`
   * version (v1 when it has none). Default: true when the server sends one
   * and the check uses the traffic port (no `port`), as HAProxy; `true` is
   * HAProxy's `check-send-proxy`.
   */
  sendProxy?: boolean;
  /**
   * A `tcp-check` script (HAProxy's `option tcp-check`), type `"tcp"` only:
   * the rules run in order; a script that does not start with a `connect`
   * gets one in front (with the check's port, TLS and PROXY settings).
   */
  tcpCheck?: TcpCheckRuleConfig[];
}

/**
 * One `tcp-check` rule. `comment` rules name the rules after them in
 * failure reports (HAProxy's `tcp-check comment`); `comment` on a rule names
 * that rule alone.
 */
export type TcpCheckRuleConfig =
  | { action: "comment"; text: string }
  | {
    /** Opens a new connection, closing the previous one. */
    action: "connect";
    /** Port (default: the check's port, else the server's). */
    port?: number;
    /** TLS with the server's TLS settings (`tls` of the server; defaults otherwise). */
    ssl?: boolean;
    /** Send a PROXY header first (the server's `sendProxy` version, else v1). */
    sendProxy?: boolean;
    /** The check's own TLS and PROXY settings unless set here (HAProxy's `default`). */
    default?: boolean;
    comment?: string;
  }
  | { action: "send"; data: string; comment?: string }
  | { action: "send-binary"; hex: string; comment?: string }
  | {
    /** Waits for what the connection read to contain (or, with `negate`, not contain) the pattern. */
    action: "expect";
    /** `string` (text), `rstring` (regular expression), `binary` (hex digits), `rbinary` (regular expression on the hex dump). */
    match: "string" | "rstring" | "binary" | "rbinary";
    pattern: string;
    negate?: boolean;
    /** Bytes to read before judging; a mismatch is then final (HAProxy's `min-recv`). */
    minRecv?: number;
    comment?: string;
  };

/** Passive health: errors seen on live traffic (HAProxy's `observe`). */
export interface ObserveConfig {
  /** `"layer4"`: connection failures; `"layer7"`: those plus invalid, late or 5xx responses (not 501/505). */
  mode: "layer4" | "layer7";
  /** Consecutive errors that trigger `onError`. Default 10. */
  errorLimit?: number;
  /**
   * `"fail-check"` (default) counts one failed health check, `"fastinter"`
   * also checks sooner, `"mark-down"` marks the server down at once (checks
   * bring it back).
   */
  onError?: "fail-check" | "fastinter" | "mark-down";
}

/** A server of a backend. */
export interface ServerConfig {
  /** Name, unique in its backend. */
  name: string;
  /** `host:port`, `[v6]:port`, `unix:/path`, or `tls://host:port`. */
  address: string;
  /**
   * Send a PROXY protocol header (`"v1"` text or `"v2"` binary) first on
   * each connection to this server, with the client's address (HAProxy's
   * `send-proxy`, `send-proxy-v2`). Such connections are not reused by
   * other clients. Health checks send it too unless they use their own
   * port (see `CheckConfig.sendProxy`).
   */
  sendProxy?: "v1" | "v2";
  /** Weight for load balancing, 0 to 256; 0 takes no new traffic except sticky. Default 1. */
  weight?: number;
  /** Maximum concurrent streams to this server, 0 for none. Excess ones queue. Default 0. */
  maxconn?: number;
  /**
   * With `maxconn`, a limit that follows the backend's load (HAProxy's
   * `minconn`): never below this, `maxconn` once the backend has
   * `fullconn` streams, on the ramp between. Default: `maxconn` (a static
   * limit); a `minconn` above `maxconn` raises `maxconn` to it.
   */
  minconn?: number;
  /** Most streams waiting in this server's queue, 0 for no limit. Default 0. */
  maxqueue?: number;
  /** Takes traffic only when no active server is up. Default false. */
  backup?: boolean;
  /** After recovering, ramp the weight up from almost 0 over this many ms. Default 0 (none). */
  slowstart?: number;
  /** Admin state at start: `"ready"`, `"drain"` or `"maint"` (HAProxy's `disabled`). Default `"ready"`. */
  state?: "ready" | "drain" | "maint";
  /** Value of the persistence cookie for this server. Default: the server's name. */
  cookie?: string;
  /** Health check; none when absent (the server is then always considered up). */
  check?: CheckConfig;
  /** Passive health observation; needs `check` to bring the server back. */
  observe?: ObserveConfig;
  /**
   * HAProxy's agent check (`agent-check`): every `inter` ms sluice connects
   * to `port` on the server's host, sends `send`, and reads one line whose
   * words change the server: `75%` (weight relative to `weight`), `ready`,
   * `drain`, `maint` (admin state), `up`, `down`, `stopped`, `fail` (with a
   * description after `#`), `maxconn:N`. Failing to reach the agent changes
   * nothing. TCP addresses only.
   */
  agent?: {
    /** The agent's port (`agent-port`). */
    port: number;
    /** Interval between agent checks, ms (`agent-inter`). Default 2000. */
    inter?: number;
    /** Time one agent check may take, ms (`timeout check`). Default: `inter`. */
    timeout?: number;
    /** Text sent upon connection (`agent-send`); include the `\n` the agent expects. */
    send?: string;
  };
  /** Connect with TLS (also implied by a `tls://` address). */
  tls?: ServerTlsConfig;
  /**
   * Most idle connections kept for reuse (HAProxy's `pool-max-conn`): -1
   * for no limit, 0 for none. Default -1.
   */
  poolMaxConn?: number;
  /**
   * Every this many ms, half of the idle connections in excess of the
   * recent need are closed, the oldest first (HAProxy's `pool-purge-delay`);
   * 0 keeps none. Default 5000.
   */
  poolPurgeDelay?: number;
  /**
   * Idle connections kept beyond the estimated need (HAProxy's
   * `pool-low-conn`). Default 0.
   */
  poolLowConn?: number;
}

/**
 * Load-balancing algorithms; `"hdr(name)"` hashes the named request header
 * (`"hdr(host) use_domain_only"`: its main domain part only), `"url_param
 * name"` the value of a query string parameter.
 * The public spelling of the rows of LB_ALGOS (lib/lb/lb_algos.ts), kept
 * here so the API documents itself; tests/unit/lb_algos_test.ts fails to
 * compile when the two differ.
 */
export type BalanceAlgo =
  | "roundrobin"
  | "static-rr"
  | "leastconn"
  | "first"
  | "source"
  | "uri"
  | "random"
  | `url_param ${string}`
  | `hdr(${string})`
  | `hdr(${string}) use_domain_only`;

/** Cookie persistence (HAProxy's `cookie NAME insert|prefix`). */
export interface CookieConfig {
  /** Cookie name. */
  name: string;
  /**
   * `"insert"`: sluice sets `NAME=<server cookie>` on responses;
   * `"prefix"`: the application's own cookie `NAME` gets `<server cookie>~`
   * prefixed on the way out and stripped on the way in.
   */
  mode: "insert" | "prefix";
  /** Insert: the cookie is removed from requests, so servers never see it. Default false. (A client that sent a valid cookie never gets a new one.) */
  indirect?: boolean;
  /** Insert: add `Cache-Control: private` to responses that set the cookie. Default false. */
  nocache?: boolean;
  /** Insert: cookie attributes appended (e.g. `"Path=/; HttpOnly"`). Default `"Path=/"`. */
  attributes?: string;
}

/** Source-address stickiness (HAProxy's `stick-table type ip` + `stick on src`). */
export interface StickSourceConfig {
  /** Most client addresses remembered; the least recently used is forgotten. Default 100000. */
  size?: number;
  /** How long an entry lives after its last use, in ms. Default 1800000 (30 min). */
  expire?: number;
}

/** HTTP settings of a backend, applied with the frontend's to the requests it gets. */
export interface HttpBackendConfig {
  /** `option forwardfor` of the backend (see HttpFrontendConfig). Default false. */
  forwardFor?: boolean | ForwardForConfig;
  /** Connection handling; the stronger of the frontend's and this applies. Default `"keep-alive"`. */
  connectionMode?: ConnectionMode;
  /** Buffer request bodies before connecting (see HttpFrontendConfig). Default false. */
  bufferRequest?: boolean;
  /**
   * A client that closes its connection while its request waits in a
   * queue or for the server connection is dropped instead of served
   * (HAProxy's `option abortonclose`; logged CQ or CC). Default false.
   */
  abortOnClose?: boolean;
  /** HTTP compression (see CompressionConfig); its algos and types win over the frontend's. */
  compression?: CompressionConfig;
}

/**
 * A backend that serves files from a directory instead of proxying to
 * servers (sluice's `static-*` keywords; HAProxy has no equivalent). HTTP
 * mode only; no `servers` beside it.
 */
export interface StaticConfig {
  /** The directory served (`static-root`); must exist. Only read permission is needed. */
  root: string;
  /** File served for a directory URL (`static-index`). Default `"index.html"`. */
  index?: string;
  /** An HTML listing of a directory without index file (`static-autoindex`). Default false (403). */
  autoindex?: boolean;
  /**
   * Serve `FILE.gz` / `FILE.br` in place of `FILE` to clients that accept the
   * encoding, in this order of preference (`static-precompressed`). Default none.
   */
  precompressed?: ("gzip" | "br")[];
  /** Cache-Control of file responses (`static-cache-control`). Default none. */
  cacheControl?: string;
  /** Names starting with a dot: `"deny"` (404) or `"allow"` (`static-dotfiles`). Default `"deny"`. */
  dotfiles?: "allow" | "deny";
  /**
   * How long a path's real path, stat and (small file) content are trusted
   * before being checked again, ms; 0 disables the cache (`static-cache-valid`).
   * Default 1000.
   */
  cacheValid?: number;
}

/** A backend: a pool of servers. */
export interface BackendConfig {
  /** Unique name, used in logs and stats. */
  name: string;
  /** Proxy mode; must match the frontends using it. Default `"http"`. */
  mode?: ProxyMode;
  /** Algorithm choosing the server of each new stream. Default `"roundrobin"`. */
  balance?: BalanceAlgo;
  /** Connection attempts after a failed one. Default 3. */
  retries?: number;
  /**
   * Retry on another server (HAProxy's `option redispatch [N]`): 1 on every
   * retry, N on every Nth, -1 on the last retry only, 0 never (retries go to
   * the same server unless it is down). Default -1.
   */
  redispatch?: number;
  /**
   * Which requests may go over an idle server connection (HAProxy's
   * `http-reuse`): `"never"` (only the next requests of the client that
   * opened it), `"safe"` (any but a client connection's first request, which
   * gets a new one so that the client may retry it), `"aggressive"` (a
   * first request too, over a connection already reused once), `"always"`
   * (any). Default `"safe"`.
   */
  httpReuse?: "never" | "safe" | "aggressive" | "always";
  /**
   * Backend load (streams) at which servers with `minconn` reach their
   * `maxconn` (HAProxy's `fullconn`). Default: 10% of the sum of the
   * `maxconn` of the frontends whose `defaultBackend` or `useBackend` rules
   * name this backend (at least 1), as HAProxy.
   */
  fullconn?: number;
  /** Timeouts (`server`, `connect`, `tunnel`, `queue` apply here). */
  timeouts?: TimeoutsConfig;
  /** Cookie persistence (HTTP). */
  cookie?: CookieConfig;
  /** Source-address stickiness. */
  stickSource?: StickSourceConfig;
  /** HTTP settings (HTTP mode). */
  http?: HttpBackendConfig;
  /**
   * HTTP rules of the backend (HAProxy's `acl`, `http-request`,
   * `http-response` in a backend section): its request rules run after the
   * frontend's and its routing, its response rules before the frontend's.
   * ACL names are the backend's own.
   */
  rules?: Pick<FrontendRules, "acls" | "httpRequest" | "httpResponse">;
  /**
   * HTTP: TypeScript hooks for the requests this backend gets: `onRequest`
   * runs after the frontend's (and its routing), `onResponse` before the
   * frontend's.
   */
  hooks?: FrontendHooks;
  /** Where its events go, health check logging. */
  log?: BackendLogConfig;
  /** The servers (at least one, none with `static`). */
  servers: ServerConfig[];
  /** Serve files from a directory instead of servers (sluice extension). */
  static?: StaticConfig;
}

/** A whole configuration. */
export interface SluiceConfig {
  /** Process-wide settings. */
  global?: GlobalConfig;
  /** Frontends (at least one). */
  frontends: FrontendConfig[];
  /** Backends referenced by the frontends. */
  backends: BackendConfig[];
  /** Userlists (HAProxy's `userlist` sections) for `http_auth()` and `http_auth_group()`. */
  userlists?: UserlistConfig[];
  /** HTTP caches (HAProxy's `cache` sections) for `cache-use` and `cache-store` rules. */
  caches?: CacheConfig[];
}

/** An HTTP cache (HAProxy's `cache NAME` section), in memory, per process. */
export interface CacheConfig {
  /** Name, as `http-request cache-use NAME` gives it. */
  name: string;
  /** `total-max-size`: megabytes of memory (1 to 4095). Required. */
  totalMaxSize: number;
  /** `max-object-size`: bytes (head and body) of the largest object stored; default a 256th of the total, at most half of it. */
  maxObjectSize?: number;
  /** `max-age`: seconds an object stays fresh at most (default 60). */
  maxAge?: number;
  /** `process-vary`: store responses with a Vary header on accept-encoding and referer (default false). */
  processVary?: boolean;
  /** `max-secondary-entries`: variants per URL with process-vary (default 10). */
  maxSecondaryEntries?: number;
}

/**
 * A userlist (HAProxy's `userlist NAME` section): users with their
 * passwords, and groups. A user's groups are those its `groups` names plus
 * those whose `users` name it.
 */
export interface UserlistConfig {
  /** Name, as `http_auth(NAME)` gives it. */
  name: string;
  /** Users, each with exactly one of `password` and `insecurePassword`. */
  users?: UserConfig[];
  /** Groups, each with users it holds (`group NAME users U,...`). */
  groups?: { name: string; users?: string[] }[];
}

/** A user of a userlist (`user NAME password HASH|insecure-password PASS [groups G,...]`). */
export interface UserConfig {
  /** User name, as the client sends it. */
  name: string;
  /** A crypt(3) hash: SHA-256 (`$5$`) or SHA-512 (`$6$`); other schemes are refused. */
  password?: string;
  /** The password in clear (`insecure-password`). */
  insecurePassword?: string;
  /** Groups of the userlist the user belongs to. */
  groups?: string[];
}
