/**
 * A strict checker of the Prometheus text exposition format (0.0.4), for
 * tests: names, label syntax and escapes, values, one HELP/TYPE per family
 * before its samples, contiguous families, no duplicate series, and
 * histogram rules (increasing `le`, non-decreasing counts, `+Inf` bucket =
 * `_count`, `_sum` present). Throws an Error naming the line.
 */

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const VALUE = /^(?:[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)|[+-]Inf|NaN)$/;

/** A parsed sample. */
export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parseLabels(s: string, line: number): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < s.length) {
    const eq = s.indexOf("=", i);
    if (eq < 0) throw new Error(`line ${line}: bad labels ${JSON.stringify(s)}`);
    const k = s.slice(i, eq);
    if (!LABEL.test(k)) throw new Error(`line ${line}: bad label name ${JSON.stringify(k)}`);
    if (s[eq + 1] !== '"') throw new Error(`line ${line}: label value must be quoted`);
    let j = eq + 2, v = "";
    for (;;) {
      if (j >= s.length) throw new Error(`line ${line}: unterminated label value`);
      const c = s[j];
      if (c === "\\") {
        const n = s[j + 1];
        if (n === "\\") v += "\\";
        else if (n === '"') v += '"';
        else if (n === "n") v += "\n";
        else throw new Error(`line ${line}: bad escape \\${n}`);
        j += 2;
      } else if (c === '"') {
        j++;
        break;
      } else {
        v += c;
        j++;
      }
    }
    if (k in out) throw new Error(`line ${line}: duplicate label ${k}`);
    out[k] = v;
    if (j < s.length) {
      if (s[j] !== ",") throw new Error(`line ${line}: expected "," between labels`);
      j++;
    }
    i = j;
  }
  return out;
}

/** Checks `text`; returns the samples. */
export function checkExposition(text: string): PromSample[] {
  if (!text.endsWith("\n")) throw new Error("the exposition must end with a newline");
  const types = new Map<string, string>();
  const helps = new Set<string>();
  const seen = new Set<string>();
  const finished = new Set<string>();
  let current = "";
  const samples: PromSample[] = [];
  const lines = text.slice(0, -1).split("\n");
  lines.forEach((l, idx) => {
    const line = idx + 1;
    if (l.startsWith("# HELP ") || l.startsWith("# TYPE ")) {
      const rest = l.slice(7);
      const sp = rest.indexOf(" ");
      const name = sp < 0 ? rest : rest.slice(0, sp);
      if (!NAME.test(name)) throw new Error(`line ${line}: bad metric name ${name}`);
      if (l.startsWith("# TYPE ")) {
        const t = rest.slice(sp + 1);
        if (!["counter", "gauge", "histogram", "summary", "untyped"].includes(t)) {
          throw new Error(`line ${line}: bad type ${t}`);
        }
        if (types.has(name)) throw new Error(`line ${line}: second TYPE for ${name}`);
        types.set(name, t);
      } else {
        if (helps.has(name)) throw new Error(`line ${line}: second HELP for ${name}`);
        helps.add(name);
      }
      if (current !== name) {
        if (current !== "") finished.add(current);
        if (finished.has(name)) throw new Error(`line ${line}: family ${name} is not contiguous`);
        current = name;
      }
      return;
    }
    if (l.startsWith("#") || l === "") return;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: (-?\d+))?$/.exec(l);
    if (m === null) throw new Error(`line ${line}: bad sample ${JSON.stringify(l)}`);
    const [, name, lab, val] = m;
    if (!VALUE.test(val)) throw new Error(`line ${line}: bad value ${val}`);
    const family = types.has(name) ? name : name.replace(/_(bucket|sum|count)$/, "");
    const type = types.get(family);
    if (type === undefined) throw new Error(`line ${line}: sample ${name} before its TYPE`);
    if (family !== current) throw new Error(`line ${line}: sample of ${family} outside its family`);
    if (type !== "histogram" && name !== family) {
      throw new Error(`line ${line}: ${name} is not ${family}`);
    }
    const labels = lab === undefined ? {} : parseLabels(lab, line);
    const key = name + JSON.stringify(Object.entries(labels).sort());
    if (seen.has(key)) throw new Error(`line ${line}: duplicate series ${name}${lab ?? ""}`);
    seen.add(key);
    const value = val === "+Inf" ? Infinity : val === "-Inf" ? -Infinity : Number(val);
    samples.push({ name, labels, value });
  });
  // Histogram rules, per label set.
  for (const [family, type] of types) {
    if (type !== "histogram") continue;
    const groups = new Map<string, { le: number; v: number }[]>();
    const sums = new Set<string>(), counts = new Map<string, number>();
    for (const s of samples) {
      const { le, ...rest } = s.labels;
      const key = JSON.stringify(Object.entries(rest).sort());
      if (s.name === `${family}_bucket`) {
        if (le === undefined) throw new Error(`${family}_bucket without le`);
        const g = groups.get(key) ?? [];
        g.push({ le: le === "+Inf" ? Infinity : Number(le), v: s.value });
        groups.set(key, g);
      } else if (s.name === `${family}_sum`) sums.add(key);
      else if (s.name === `${family}_count`) counts.set(key, s.value);
    }
    for (const [key, g] of groups) {
      for (let i = 1; i < g.length; i++) {
        if (!(g[i].le > g[i - 1].le)) throw new Error(`${family}${key}: le not increasing`);
        if (g[i].v < g[i - 1].v) throw new Error(`${family}${key}: bucket counts decrease`);
      }
      const last = g.at(-1)!;
      if (last.le !== Infinity) throw new Error(`${family}${key}: no +Inf bucket`);
      if (counts.get(key) !== last.v) throw new Error(`${family}${key}: +Inf bucket != _count`);
      if (!sums.has(key)) throw new Error(`${family}${key}: no _sum`);
    }
  }
  return samples;
}

/** The value of the sample `name` whose labels include `labels`, or undefined. */
export function promValue(
  samples: PromSample[],
  name: string,
  labels: Record<string, string>,
): number | undefined {
  return samples.find((s) =>
    s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)
  )?.value;
}
