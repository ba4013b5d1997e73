/**
 * IP addresses between text and bytes: RFC 5952 text for IPv6 (as sockets
 * and PROXY v2 headers give them), dotted quads for IPv4. The inputs are
 * already known to be valid literals (checked where they enter).
 *
 * @module
 */

/** Dotted-quad text of the 4 bytes at `p`. */
export function ipv4Text(a: Uint8Array, p: number): string {
  return `${a[p]}.${a[p + 1]}.${a[p + 2]}.${a[p + 3]}`;
}

/** RFC 5952 text of the 16 bytes at `p` (longest zero run as ::, lower case). */
export function ipv6Text(a: Uint8Array, p: number): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((a[p + 2 * i] << 8) | a[p + 2 * i + 1]);
  // IPv4-mapped: ::ffff:a.b.c.d, as sockets report them.
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) {
    return `::ffff:${ipv4Text(a, p + 12)}`;
  }
  let best = -1, bestLen = 0;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen && j - i > 1) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (best < 0) return hex.join(":");
  return `${hex.slice(0, best).join(":")}::${hex.slice(best + bestLen).join(":")}`;
}

/** Writes the 4 bytes of dotted-quad `s` at `p`. */
export function ipv4Put(out: Uint8Array, p: number, s: string): void {
  s.split(".").forEach((o, i) => out[p + i] = Number(o));
}

/** Writes the 16 bytes of IPv6 text `s` (any valid form, a trailing dotted quad too) at `p`. */
export function ipv6Put(out: Uint8Array, p: number, s: string): void {
  let text = s;
  const m = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (m !== null) {
    // A trailing dotted quad is the last two groups.
    const o = m[2].split(".").map(Number);
    text = `${m[1]}${((o[0] << 8) | o[1]).toString(16)}:${((o[2] << 8) | o[3]).toString(16)}`;
  }
  const [head, tail] = text.includes("::") ? text.split("::") : [text, null];
  const hs = head === "" ? [] : head.split(":");
  const ts = tail === null || tail === "" ? [] : tail.split(":");
  const groups = [...hs, ...Array(8 - hs.length - ts.length).fill("0"), ...ts];
  groups.forEach((g, i) => {
    const v = parseInt(g, 16);
    out[p + 2 * i] = v >> 8;
    out[p + 2 * i + 1] = v & 0xff;
  });
}
