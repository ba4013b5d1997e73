/**
 * The converter registry (HAProxy's `sample_conv_kws`): converters written
 * after a fetch, `hdr(host),lower`, turn each sample before the matcher (or
 * a header value template) sees it. No converter is supported yet: the
 * table is empty and `hdr(host),lower` is refused at load time; the
 * compatibility work adds rows here.
 *
 * A converter compiles to a sample sink placed between the fetch and what
 * follows (`next`, set by the wrapping fetch on each run), so a chain costs
 * one call per sample and converter and allocates nothing per message.
 *
 * @module
 */
import type { AclCtx, AclFetch, AclSampleSink } from "./acl_types.ts";

/** A compiled converter: takes the samples before it, hands what it makes of each to `next`. */
export interface AclConv extends AclSampleSink {
  /** Where converted samples go; set before each run of the fetch it follows. */
  next: AclSampleSink;
}

/** One row of ACL_CONVERTERS. */
export interface AclConvDef {
  /** Sample types it takes, as bits (`1 << SMP_T_*`). */
  readonly takes: number;
  /** SMP_T_* of what it gives. */
  readonly type: number;
  /** Its arguments in parentheses as docs show them (`NAME[,DEFAULT]`); undefined: none. */
  readonly args?: string;
  /** One line for docs/keywords.md. */
  readonly doc: string;
  /** Compiles the converter from its arguments, or says why they are wrong. */
  compile(word: string, args: readonly string[]): AclConv | string;
}

/** Every converter, by name. Empty until the first one is supported. */
export const ACL_CONVERTERS: Record<string, AclConvDef> = {};

/** The row of converter `name`, or undefined (own rows only). */
export function aclConvDef(name: string): AclConvDef | undefined {
  return Object.hasOwn(ACL_CONVERTERS, name) ? ACL_CONVERTERS[name] : undefined;
}

/** A fetch followed by a converter: the converter's output is the sample. */
export class ConvFetch implements AclFetch {
  constructor(
    readonly kw: string,
    readonly type: number,
    readonly inner: AclFetch,
    readonly conv: AclConv,
  ) {}

  exec(ctx: AclCtx, m: AclSampleSink): boolean {
    this.conv.next = m;
    return this.inner.exec(ctx, this.conv);
  }
}
