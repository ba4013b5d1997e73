/**
 * The `compression` keywords of proxy sections, as HAProxy 2.6 reads them
 * (src/flt_http_comp.c, parse_compression_options): `compression algo
 * NAME...` and `compression type MIME...` add to the lists (a section's own
 * lines add to those inherited from `defaults`, and the last one named is
 * tried first), `compression offload` is ignored with a warning in
 * `defaults` and never inherited.
 *
 * @module
 */
import { COMP_ALGOS, type CompAlgoName, probeCompressor } from "../http/comp_algo.ts";
import type { CfgProxyDraft, CfgStmt } from "./cfg_types.ts";

/** `compression algo NAME...`. */
export function cfgCompAlgo(p: CfgProxyDraft, { at, args }: CfgStmt): void {
  if (args.length === 0) throw at.fail(`"compression algo" expects <algorithm>`);
  const list = [...(p.compAlgos?.value ?? [])];
  for (const a of args) {
    if (!(COMP_ALGOS as readonly string[]).includes(a)) {
      throw at.badValue(a, `not a supported algorithm (expected ${COMP_ALGOS.join(", ")})`);
    }
    const why = probeCompressor(a as CompAlgoName);
    if (why !== null) throw at.badValue(a, `can't init the algorithm: ${why}`);
    list.unshift(a as CompAlgoName);
  }
  p.compAlgos = { value: list, where: at.where, inherited: false };
}

/** `compression type MIME...`. */
export function cfgCompType(p: CfgProxyDraft, { at, args }: CfgStmt): void {
  if (args.length === 0) throw at.fail(`"compression type" expects <type>`);
  const list = [...(p.compTypes?.value ?? [])];
  for (const t of args) list.unshift(t.toLowerCase());
  p.compTypes = { value: list, where: at.where, inherited: false };
}

/** `compression offload`. */
export function cfgCompOffload(p: CfgProxyDraft, { at, args }: CfgStmt): void {
  at.args(args, 0, 0);
  if (p.kind === "defaults") {
    at.warn(`"compression offload" is ignored in a defaults section (as HAProxy)`);
    return;
  }
  p.compOffload = { value: true, where: at.where, inherited: false };
}
