/**
 * Decoding of flag words for logs and debugging: every layer keeps its flags as
 * named bits in a `*_types.ts` file and a table of names beside them.
 *
 * @module
 */

/** A table of `[bit, name]` pairs describing a flag word. */
export type FlagTable = readonly (readonly [number, string])[];

/**
 * Renders a flag word as `NAME1|NAME2`, with unknown bits shown in hex, or
 * `0` when no bit is set.
 *
 * @example
 * ```ts
 * import { showFlags } from "./flags.ts";
 * showFlags(3, [[1, "A"], [2, "B"]]); // "A|B"
 * ```
 */
export function showFlags(value: number, table: FlagTable): string {
  if (value === 0) return "0";
  const names: string[] = [];
  let rest = value;
  for (const [bit, name] of table) {
    if (value & bit) {
      names.push(name);
      rest &= ~bit;
    }
  }
  if (rest !== 0) names.push(`0x${(rest >>> 0).toString(16)}`);
  return names.join("|");
}
