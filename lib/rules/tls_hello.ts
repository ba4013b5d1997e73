/**
 * The start of a TLS connection read from the raw request bytes, without
 * terminating TLS (HAProxy's smp_fetch_ssl_hello_type,
 * smp_fetch_ssl_hello_sni and smp_fetch_req_ssl_ver in payload.c): what
 * `req.ssl_hello_type`, `req.ssl_sni` and `req.ssl_ver` see, to route TLS by
 * the server name without holding a certificate.
 *
 * The bytes arrive in any segmentation, so the scan is incremental: it keeps
 * where it stopped and each call reads only the bytes added since (the
 * request buffer only grows while rules inspect it), so a client that sends
 * one byte at a time costs linear time in total, not quadratic. A handshake
 * message may be split over several TLS records (RFC 8446 §5.1); the scan
 * follows the records and, when the message is not within the first one,
 * copies its fragments together once it is complete (HAProxy reads only the
 * first record; a split ClientHello is legal and finds its name here).
 *
 * Every length is checked against what is there before it is used: hostile
 * or truncated input gives "not TLS" or "need more", never a read outside
 * the bytes given, never an exception. What can never fit in the buffer is
 * "not TLS" at once rather than a wait for data that cannot come.
 *
 * @module
 */

/** More bytes are needed to decide. */
export const TLS_NEED = 0;
/** The bytes are not (or can no longer become) what was looked for. */
export const TLS_NOT = 1;
/** The first handshake message is complete. */
export const TLS_DONE = 2;

/** TLS record content type of handshake records. */
const REC_HANDSHAKE = 0x16;
/** The largest plaintext record (RFC 8446 §5.1: 2^14). */
const REC_MAX = 1 << 14;
const EMPTY = new Uint8Array(0);

/**
 * Follows the handshake records at the start of a growing byte range until
 * the first handshake message (the ClientHello) is complete. One per
 * inspected stream; `update()` after each arrival of bytes.
 */
export class TlsHelloScan {
  /** TLS_NEED, TLS_NOT or TLS_DONE. */
  state = TLS_NEED;
  /** Once done: the message (header included) is `msg[msgPos, msgPos + msgLen)`. */
  msg: Uint8Array = EMPTY;
  msgPos = 0;
  msgLen = 0;
  /** The bytes scanned: a different area, start, or fewer bytes starts over. */
  #a: Uint8Array = EMPTY;
  #pos = 0;
  #seen = 0;
  /** Offset (from the start) of the record being read, its payload length (-1: header not read) and payload bytes taken. */
  #rec = 0;
  #recLen = -1;
  #recUsed = 0;
  /** Handshake bytes gathered; the message's whole length (4 + body), -1 until its header is known. */
  #have = 0;
  #need = -1;
  readonly #hdr = new Uint8Array(4);
  /** Server name in `msg`: start, or -1 for none, -2 not looked for yet. */
  #sniPos = -2;
  #sniLen = 0;

  /**
   * Scans `a[pos, pos + len)`, the bytes received so far (which must keep
   * the bytes of the previous call in place and only grow), within a buffer
   * of `cap` bytes. Returns the state: TLS_NEED, TLS_NOT or TLS_DONE.
   */
  update(a: Uint8Array, pos: number, len: number, cap: number): number {
    if (a !== this.#a || pos !== this.#pos || len < this.#seen) this.#reset(a, pos);
    this.#seen = len;
    if (this.state !== TLS_NEED) return this.state;
    const hdr = this.#hdr;
    for (;;) {
      const rec = this.#rec;
      const avail = len - rec;
      if (this.#recLen < 0) {
        // Refuse as early as the bytes allow: a plain-text protocol is "not
        // TLS" from its first byte, not after a wait.
        if (avail < 1) return TLS_NEED;
        if (a[pos + rec] !== REC_HANDSHAKE) return this.#fail();
        if (avail < 2) return TLS_NEED;
        if (a[pos + rec + 1] < 3) return this.#fail(); // SSLv3 or later (HAProxy)
        if (avail < 5) return TLS_NEED;
        const rl = (a[pos + rec + 3] << 8) | a[pos + rec + 4];
        // Empty handshake records are forbidden (RFC 8446 §5.1).
        if (rl === 0 || rl > REC_MAX) return this.#fail();
        this.#recLen = rl;
        this.#recUsed = 0;
      }
      const got = avail - 5 < this.#recLen ? avail - 5 : this.#recLen;
      const from = pos + rec + 5;
      while (this.#have < 4 && this.#recUsed < got) hdr[this.#have++] = a[from + this.#recUsed++];
      if (this.#have === 4 && this.#need < 0) {
        this.#need = 4 + ((hdr[1] << 16) | (hdr[2] << 8) | hdr[3]);
        // At least one record header precedes it: it can never be whole.
        if (this.#need + 5 > cap) return this.#fail();
      }
      if (this.#need >= 0) {
        const rest = this.#need - this.#have;
        const take = got - this.#recUsed < rest ? got - this.#recUsed : rest;
        this.#have += take;
        this.#recUsed += take;
        if (this.#have === this.#need) return this.#done(a, pos);
      }
      if (this.#recUsed < this.#recLen) return TLS_NEED;
      this.#rec = rec + 5 + this.#recLen;
      this.#recLen = -1;
    }
  }

  /** The handshake type of the first message (1: ClientHello), or -1 before TLS_DONE. */
  helloType(): number {
    return this.state === TLS_DONE ? this.msg[this.msgPos] : -1;
  }

  /**
   * The host name of the server_name extension (RFC 6066) of a complete
   * ClientHello, as `[start, length]` in `msg`, or null when there is none
   * or the message is malformed. Parsed once.
   */
  sni(): readonly [number, number] | null {
    if (this.state !== TLS_DONE) return null;
    if (this.#sniPos === -2) {
      const r = helloSni(this.msg, this.msgPos, this.msgLen);
      this.#sniPos = r < 0 ? -1 : r;
      this.#sniLen = r < 0 ? 0 : (this.msg[r - 2] << 8) | this.msg[r - 1];
    }
    return this.#sniPos < 0 ? null : [this.#sniPos, this.#sniLen];
  }

  #reset(a: Uint8Array, pos: number): void {
    this.#a = a;
    this.#pos = pos;
    this.#seen = 0;
    this.state = TLS_NEED;
    this.msg = EMPTY;
    this.msgPos = this.msgLen = 0;
    this.#rec = this.#recUsed = this.#have = 0;
    this.#recLen = this.#need = -1;
    this.#sniPos = -2;
    this.#sniLen = 0;
  }

  #fail(): number {
    this.state = TLS_NOT;
    return TLS_NOT;
  }

  /** The message is whole: in place when the first record holds it, else its fragments copied together. */
  #done(a: Uint8Array, pos: number): number {
    const need = this.#need;
    this.state = TLS_DONE;
    this.msgLen = need;
    if (this.#rec === 0) {
      this.msg = a;
      this.msgPos = pos + 5;
      return TLS_DONE;
    }
    // Every record header up to here was checked by update().
    const out = new Uint8Array(need);
    let have = 0, rec = pos;
    while (have < need) {
      const rl = (a[rec + 3] << 8) | a[rec + 4];
      const n = rl < need - have ? rl : need - have;
      out.set(a.subarray(rec + 5, rec + 5 + n), have);
      have += n;
      rec += 5 + rl;
    }
    this.msg = out;
    this.msgPos = 0;
    return TLS_DONE;
  }
}

/** Big-endian 16-bit integer at `p`. */
function u16(m: Uint8Array, p: number): number {
  return (m[p] << 8) | m[p + 1];
}

/**
 * The offset in `m` of the host name of a ClientHello `m[at, at + len)`
 * (handshake header included), or -1: not a ClientHello, older than TLS
 * 1.0, malformed, no server_name extension, no host_name entry or an empty
 * one. Every length is checked against the end of the enclosing structure.
 * The name's length is the 16 bits just before it.
 */
function helloSni(m: Uint8Array, at: number, len: number): number {
  const end = at + len;
  if (len < 4 || m[at] !== 1) return -1;
  let p = at + 4;
  // client_version (TLS 1.0 or later, as HAProxy), random, session id length.
  if (p + 2 + 32 + 1 > end) return -1;
  if (m[p] < 3 || m[p + 1] < 1) return -1;
  p += 34;
  const sid = m[p];
  if (sid > 32) return -1;
  p += 1 + sid;
  if (p + 2 > end) return -1;
  const cs = u16(m, p);
  if (cs < 2 || (cs & 1) !== 0 || p + 2 + cs > end) return -1;
  p += 2 + cs;
  if (p + 1 > end) return -1;
  const cm = m[p];
  if (cm < 1 || p + 1 + cm > end) return -1;
  p += 1 + cm;
  if (p + 2 > end) return -1; // no extensions
  const extEnd = p + 2 + u16(m, p);
  if (extEnd > end) return -1;
  p += 2;
  while (p + 4 <= extEnd) {
    const type = u16(m, p), el = u16(m, p + 2);
    p += 4;
    if (p + el > extEnd) return -1;
    if (type === 0) {
      // server_name: ServerNameList<1..2^16-1> of (name_type, HostName<1..2^16-1>).
      if (el < 2) return -1;
      const listEnd = p + 2 + u16(m, p);
      if (listEnd > p + el) return -1;
      let q = p + 2;
      while (q + 3 <= listEnd) {
        const nt = m[q], nl = u16(m, q + 1);
        q += 3;
        if (q + nl > listEnd) return -1;
        if (nt === 0) return nl === 0 ? -1 : q;
        q += nl;
      }
      return -1;
    }
    p += el;
  }
  return -1;
}

/**
 * The protocol version announced at the start of `a[pos, pos + len)`, as
 * `major << 16 | minor` (TLS 1.2 is 3.3: 0x30003), HAProxy's
 * smp_fetch_req_ssl_ver(): the ClientHello's client_version after an SSLv3+
 * record header (the record must then be whole, as far as a buffer of `cap`
 * bytes can hold it), or an SSLv2 CLIENT-HELLO's version. Returns -1 when
 * more bytes are needed, -2 when it is not SSL/TLS.
 */
export function tlsReqVersion(a: Uint8Array, pos: number, len: number, cap: number): number {
  if (len < 1) return -1;
  const b0 = a[pos];
  let version: number, msgLen: number, hdr: number;
  if ((b0 >= 0x14 && b0 <= 0x17) || b0 === 0xff) {
    // SSLv3 record header, then the hello's version at bytes 9 and 10.
    if (len < 11) return -1;
    if (((a[pos + 1] << 16) | a[pos + 2]) < 0x30000) return -2;
    msgLen = (a[pos + 3] << 8) | a[pos + 4];
    if (msgLen < 6 || msgLen > REC_MAX + 2048) return -2;
    version = (a[pos + 9] << 16) | a[pos + 10];
    hdr = 5;
  } else {
    // SSLv2 header (2 bytes, or 3 with padding), only for a CLIENT-HELLO.
    let rlen: number, pad: number;
    if (b0 & 0x80) {
      if (len < 3) return -1;
      rlen = ((b0 & 0x7f) << 8) | a[pos + 1];
      pad = 0;
      hdr = 2;
    } else {
      if (len < 4) return -1;
      rlen = ((b0 & 0x3f) << 8) | a[pos + 1];
      pad = a[pos + 2];
      hdr = 3;
    }
    if (a[pos + hdr] !== 0x01) return -2;
    hdr++;
    if (len < hdr + 8) return -1;
    const p = pos + hdr;
    version = (a[p] << 16) | a[p + 1];
    const ci = u16(a, p + 2), si = u16(a, p + 4), ch = u16(a, p + 6);
    if (ci % 3 !== 0 || (si !== 0 && si !== 16) || ch < 16 || ch > 32) return -2;
    if (rlen !== 9 + ci + si + ch) return -2;
    hdr += 8;
    msgLen = ci + si + ch + pad;
  }
  // The whole message, or what of it a buffer can hold.
  if (msgLen > cap - hdr) msgLen = cap - hdr;
  return len - hdr < msgLen ? -1 : version;
}
