/**
 * TLS ClientHello bytes built by hand for parser and routing tests: the
 * handshake message with chosen fields, and its split into TLS records.
 */

/** Options of `clientHello()`. */
export interface HelloOptions {
  /** host_name of the server_name extension; null: no server_name extension. */
  sni?: string | null;
  /** client_version (default TLS 1.2: [3, 3]). */
  version?: readonly [number, number];
  /** Session id length (default 32). */
  sessionId?: number;
  /** Extensions before server_name, as [type, data]. */
  before?: readonly (readonly [number, Uint8Array])[];
  /** Entries of the server_name list before the host_name one, as [name_type, name]. */
  names?: readonly (readonly [number, string])[];
}

const ENC = new TextEncoder();

function u16(n: number): number[] {
  return [(n >> 8) & 0xff, n & 0xff];
}

/** One extension: type, length, data. */
function ext(type: number, data: Uint8Array | number[]): number[] {
  return [...u16(type), ...u16(data.length), ...data];
}

/** A ClientHello handshake message (type 1, 24-bit length, body). */
export function clientHello(opts: HelloOptions = {}): Uint8Array {
  const [maj, min] = opts.version ?? [3, 3];
  const sid = opts.sessionId ?? 32;
  const body: number[] = [maj, min];
  for (let i = 0; i < 32; i++) body.push((i * 7) & 0xff); // random
  body.push(sid);
  for (let i = 0; i < sid; i++) body.push(0xa0 + (i & 0xf));
  const suites = [0x13, 0x01, 0x13, 0x02, 0xc0, 0x2f];
  body.push(...u16(suites.length), ...suites);
  body.push(1, 0); // compression: null
  const exts: number[] = [];
  for (const [t, d] of opts.before ?? []) exts.push(...ext(t, d));
  if (opts.sni !== null) {
    const list: number[] = [];
    for (const [t, n] of opts.names ?? []) {
      const b = ENC.encode(n);
      list.push(t, ...u16(b.length), ...b);
    }
    const host = ENC.encode(opts.sni ?? "a.example.com");
    list.push(0, ...u16(host.length), ...host);
    exts.push(...ext(0, [...u16(list.length), ...list]));
  }
  exts.push(...ext(43, [2, 3, 4])); // supported_versions: TLS 1.3
  body.push(...u16(exts.length), ...exts);
  return new Uint8Array([
    1,
    (body.length >> 16) & 0xff,
    (body.length >> 8) & 0xff,
    body.length & 0xff,
    ...body,
  ]);
}

/**
 * `msg` in handshake records: fragments of the given sizes (the last one
 * takes the rest; default: one record).
 */
export function records(msg: Uint8Array, sizes: readonly number[] = []): Uint8Array {
  const out: number[] = [];
  let at = 0;
  for (let i = 0; at < msg.length; i++) {
    const n = i < sizes.length ? Math.min(sizes[i], msg.length - at) : msg.length - at;
    out.push(0x16, 3, 1, ...u16(n), ...msg.subarray(at, at + n));
    at += n;
  }
  return new Uint8Array(out);
}
