/**
 * Default values of the configuration (HAProxy's where sluice has the same
 * setting), applied by resolveConfig() and named in config_types.ts docs.
 *
 * @module
 */
import type { TimeoutsConfig } from "./config_types.ts";

/** Default process maxconn. */
export const DEFAULT_MAXCONN = 4096;
/** Days before a certificate expires from which a warning is logged (`ssl-cert-expiry-warning`). */
export const DEFAULT_CERT_EXPIRY_WARNING_DAYS = 30;
/** Default grace period after a stop signal, in ms. */
export const DEFAULT_GRACE_MS = 10_000;
/** Default timeouts, in ms (0: none). */
export const DEFAULT_TIMEOUTS: Readonly<Required<TimeoutsConfig>> = {
  client: 30_000,
  server: 30_000,
  connect: 5_000,
  tunnel: 0,
  queue: 0,
  httpRequest: 10_000,
  httpKeepAlive: 10_000,
  tarpit: 0, // none given: `connect`
};
/** Default HTTP limits and server connection reuse. */
export const DEFAULT_MAXHDRS = 101;
export const DEFAULT_MAXREWRITE = 1024;
/**
 * HAProxy's `pool-purge-delay` default. Idle server connections are sized
 * by need (see lib/backend/idle_conns.ts), not capped: with a cap of 256 a
 * load of 1,000 keep-alive clients closed and reopened the excess (7,000
 * new server connections per 8 s, and timeouts).
 */
export const DEFAULT_POOL_PURGE_DELAY = 5_000;
/** Default connection retries. */
export const DEFAULT_RETRIES = 3;
/** Large buffers per instance (LARGE_BUFFER_FACTOR × bufsize each). */
export const DEFAULT_LARGE_BUFFERS = 256;
/**
 * Size of a large buffer in normal buffers, by data layer. node:net hands
 * over at most 64 KiB per read, so 4 × 16 KiB is all it can fill; the FFI
 * layer receives straight into the buffer, and a bulk transfer costs a turn
 * of the scheduler per buffer (measured, 64 MiB through one connection: 68 ms
 * of CPU with 64 KiB buffers, 58 ms with 256 KiB; HAProxy 54 ms).
 */
export const LARGE_BUFFER_FACTOR = { node: 4, ffi: 16 } as const;
/** Default redispatch: on the last retry only. */
export const DEFAULT_REDISPATCH = -1;
/** Default health check interval, rise and fall (HAProxy's). */
export const DEFAULT_CHECK_INTER = 2_000;
export const DEFAULT_CHECK_RISE = 2;
export const DEFAULT_CHECK_FALL = 3;
/** Default passive-health error limit (HAProxy's). */
export const DEFAULT_ERROR_LIMIT = 10;
/** Default size and expiry of the source stickiness table. */
export const DEFAULT_STICK_SIZE = 100_000;
export const DEFAULT_STICK_EXPIRE = 30 * 60_000;
/** Default queue of log bytes waiting for a slow sink. */
export const DEFAULT_LOG_QUEUE_BYTES = 1 << 20;
/** Default idle time of an interactive runtime API session (HAProxy's `stats timeout`), in ms. */
export const DEFAULT_ADMIN_TIMEOUT = 10_000;
