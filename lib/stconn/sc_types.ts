/**
 * Stream interface states (SC_ST_*), flags (SC_FL_*) and error types
 * (SC_ET_*). Each side of a stream has one stream interface ("sc").
 *
 * @module
 */
import type { FlagTable } from "../core/flags.ts";
import type { State } from "../core/state.ts";

/** A stream interface state: one of the SC_ST_* constants. */
export type ScState = State<"sc">;

/** Not used yet. */
export const SC_ST_INI = 0 as ScState;
/** A connection was requested (server to be chosen). */
export const SC_ST_REQ = 1 as ScState;
/** Waiting in a queue for a server slot. */
export const SC_ST_QUE = 2 as ScState;
/** A server is assigned, connection not started. */
export const SC_ST_ASS = 3 as ScState;
/** Connecting (L4, then handshake). */
export const SC_ST_CON = 4 as ScState;
/** The connection attempt failed; retry or give up. */
export const SC_ST_CER = 5 as ScState;
/** Established: data may flow. */
export const SC_ST_EST = 6 as ScState;
/** Closing: the socket is closed, waiting for in-flight I/O to settle. */
export const SC_ST_DIS = 7 as ScState;
/** Closed. */
export const SC_ST_CLO = 8 as ScState;

/** State names, indexed by state. */
export const SC_ST_NAMES: readonly string[] = [
  "INI",
  "REQ",
  "QUE",
  "ASS",
  "CON",
  "CER",
  "EST",
  "DIS",
  "CLO",
];

/** An error (or timeout) was reported on this side. */
export const SC_FL_ERR = 1 << 0;
/** Do not refresh the read timeout when writing (independent streams). */
export const SC_FL_INDEP_STR = 1 << 1;

/** Names for `showFlags()`. */
export const SC_FLAG_NAMES: FlagTable = [
  [SC_FL_ERR, "ERR"],
  [SC_FL_INDEP_STR, "INDEP_STR"],
];

/** No error. */
export const SC_ET_NONE = 0;
/** Connect timeout. */
export const SC_ET_CONN_TO = 1;
/** Connection failed (refused, unreachable, TLS). */
export const SC_ET_CONN_ERR = 2;
/** Error while exchanging data. */
export const SC_ET_DATA_ERR = 3;
/** No usable server. */
export const SC_ET_CONN_NOSRV = 4;
/** Queue timeout. */
export const SC_ET_QUEUE_TO = 5;
/** Resource shortage (e.g. too many connections). */
export const SC_ET_CONN_RES = 6;
