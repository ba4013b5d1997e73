/**
 * What of a configuration crosses to worker threads, and how. A function
 * cannot be sent to another thread:
 *
 * - TypeScript hooks come from a module that every worker imports:
 *   `startSluice(config, { hooksModule: url })`, the module exporting
 *   `frontends` and/or `backends`, each a record from a proxy's name to its
 *   `FrontendHooks`. It works with one thread too (imported once).
 * - A log target given as a function stays on the control thread: each
 *   worker gets a stand-in that posts the lines to it, and the control thread
 *   calls the function (lines of different workers arrive in the order the
 *   control thread receives them).
 *
 * @module
 */
import type { FrontendHooks, SluiceConfig } from "../cfg/config_types.ts";
import { SluiceError } from "../core/errors.ts";

/** What a hooks module exports. */
export interface HooksModule {
  /** Hooks per frontend (or listen) name. */
  frontends?: Record<string, FrontendHooks>;
  /** Hooks per backend (or listen) name. */
  backends?: Record<string, FrontendHooks>;
}

/**
 * Imports the hooks module at `url` and returns `config` with its hooks set
 * on the proxies it names. A name the configuration does not have, or an
 * export that is not an object of hooks, is an ERR_CONFIG error.
 */
export async function withHooksModule(config: SluiceConfig, url: string): Promise<SluiceConfig> {
  let mod: HooksModule;
  try {
    mod = await import(url);
  } catch (err) {
    throw new SluiceError("ERR_CONFIG", `Cannot import the hooks module ${url}: ${err}`);
  }
  const out: SluiceConfig = {
    ...config,
    frontends: config.frontends.map((f) => ({ ...f })),
    backends: (config.backends ?? []).map((b) => ({ ...b })),
  };
  for (const [kind, list] of [["frontends", out.frontends], ["backends", out.backends!]] as const) {
    const given = mod[kind];
    if (given === undefined) continue;
    if (given === null || typeof given !== "object") {
      throw new SluiceError("ERR_CONFIG", `The hooks module's "${kind}" must be an object`);
    }
    for (const [name, hooks] of Object.entries(given)) {
      const p = (list as { name: string; hooks?: FrontendHooks }[]).find((x) => x.name === name);
      if (p === undefined) {
        throw new SluiceError(
          "ERR_CONFIG",
          `The hooks module names ${
            kind.slice(0, -1)
          } "${name}", which the configuration does not have`,
        );
      }
      p.hooks = hooks;
    }
  }
  return out;
}

/** A log target function's stand-in in the model sent to workers. */
interface LogStandIn {
  $logfn: number;
}

type LogTargets = { target?: unknown; targets?: ({ target: unknown } | "global")[] } | undefined;

/** `config` with every log target (global, frontends', backends') passed through `f`. */
function mapLogTargets(config: SluiceConfig, f: (target: unknown) => unknown): SluiceConfig {
  const log = <T extends LogTargets>(l: T): T =>
    l === undefined ? l : {
      ...l,
      ...(l.target !== undefined ? { target: f(l.target) } : {}),
      ...(l.targets !== undefined
        ? { targets: l.targets.map((t) => t === "global" ? t : { ...t, target: f(t.target) }) }
        : {}),
    };
  return {
    ...config,
    global: config.global === undefined
      ? undefined
      : { ...config.global, log: log(config.global.log) },
    frontends: config.frontends.map((fe) => ({ ...fe, log: log(fe.log) })),
    backends: config.backends?.map((b) => ({ ...b, log: log(b.log) })),
  } as SluiceConfig;
}

/**
 * `config` with each log target function replaced by a stand-in (numbered
 * in `fns`), for workers: see workerLogTargets().
 */
export function withoutLogFunctions(
  config: SluiceConfig,
): { config: SluiceConfig; fns: ((line: string) => void)[] } {
  const fns: ((line: string) => void)[] = [];
  const out = mapLogTargets(config, (v) => {
    if (typeof v !== "function") return v;
    fns.push(v as (line: string) => void);
    return { $logfn: fns.length - 1 } satisfies LogStandIn;
  });
  return { config: out, fns };
}

/** In a worker: the stand-ins of withoutLogFunctions() replaced by `post(i, line)` functions. */
export function workerLogTargets(
  config: SluiceConfig,
  post: (fn: number, line: string) => void,
): SluiceConfig {
  return mapLogTargets(config, (v) => {
    const n = (v as LogStandIn | null)?.$logfn;
    return typeof n === "number" ? (line: string) => post(n, line) : v;
  });
}

/**
 * The path of the first function in `v` other than a log target (a hook),
 * or null: what cannot cross to a worker thread.
 */
export function functionPath(v: unknown, path = "config"): string | null {
  if (typeof v === "function") {
    return /\.log\.(target|targets\[\d+\]\.target)$/.test(path) ? null : path;
  }
  if (v === null || typeof v !== "object" || ArrayBuffer.isView(v) || v instanceof RegExp) {
    return null;
  }
  for (const [k, x] of Object.entries(v)) {
    const p = functionPath(x, Array.isArray(v) ? `${path}[${k}]` : `${path}.${k}`);
    if (p !== null) return p;
  }
  return null;
}
