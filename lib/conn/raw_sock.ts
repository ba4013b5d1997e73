/**
 * The raw data layer: plain TCP or unix stream sockets.
 *
 * @module
 */
import type { DataLayer } from "./conn_types.ts";
import {
  sockAttach,
  sockClose,
  sockConnect,
  sockRcvBuf,
  sockRcvStop,
  sockShutw,
  sockSndBuf,
} from "./sock.ts";

/** Plain sockets. */
export const RAW_SOCK: DataLayer = {
  name: "raw",
  attach: sockAttach,
  connect: sockConnect,
  rcvBuf: sockRcvBuf,
  rcvStop: sockRcvStop,
  sndBuf: sockSndBuf,
  shutw: sockShutw,
  close: sockClose,
};
