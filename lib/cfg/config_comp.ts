/**
 * Resolving the model's `compression` settings (CompressionConfig) into
 * the HTTP analyser's CompOptions, checking what an API caller may have
 * written and that the runtime can run each algorithm.
 *
 * @module
 */
import { COMP_ALGOS, type CompAlgoName, probeCompressor } from "../http/comp_algo.ts";
import type { CompOptions } from "../http/comp_negotiate.ts";
import type { CompressionConfig } from "./config_types.ts";
import { resolveBool, resolveFail } from "./config_values.ts";

/** The compression settings at `at` (undefined: none). */
export function resolveCompression(
  at: string,
  c: CompressionConfig | undefined,
): CompOptions | null {
  if (c === undefined) return null;
  if (typeof c !== "object" || c === null) resolveFail(at, "expected an object");
  const algos: CompAlgoName[] = [];
  for (const [i, a] of (c.algos ?? []).entries()) {
    if (!(COMP_ALGOS as readonly unknown[]).includes(a)) {
      resolveFail(`${at}.algos[${i}]`, `expected one of ${COMP_ALGOS.join(", ")}`);
    }
    const why = probeCompressor(a);
    if (why !== null) resolveFail(`${at}.algos[${i}]`, why);
    algos.push(a);
  }
  const types: string[] = [];
  for (const [i, t] of (c.types ?? []).entries()) {
    if (typeof t !== "string" || t === "") {
      resolveFail(`${at}.types[${i}]`, "expected a media type");
    }
    types.push(t.toLowerCase());
  }
  return { algos, types, offload: resolveBool(`${at}.offload`, c.offload, false) };
}
