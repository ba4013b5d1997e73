/**
 * sluice's version, printed by `--version` and in the ready line.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { VERSION } from "./version.ts";
 * assert(/^\d+\.\d+\.\d+$/.test(VERSION));
 * ```
 */
export const VERSION = "0.1.0";
