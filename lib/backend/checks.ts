/**
 * The health checks of one backend: one CheckTask per checked server, whose
 * verdicts become server state changes (`Backend.setOpState`), and the
 * actions of passive observation (`observe`) when a server hits its error
 * limit on live traffic. A server in maintenance is not checked; leaving
 * maintenance restarts its checks.
 *
 * Agent checks (HAProxy's `agent-check`) run beside them, maintenance or
 * not, and apply what the agent says: weight, admin state, maxconn, and an
 * operational opinion. As in HAProxy a server is UP only when both its
 * health check and its agent say so; an agent that cannot be reached
 * changes nothing.
 *
 * @module
 */
import { type AgentConfig, type AgentOutcome, agentParse, AgentTask } from "../check/agent.ts";
import type { CheckConfig, CheckResult, CheckTransition } from "../check/check_types.ts";
import { type CheckTarget, CheckTask } from "../check/check_task.ts";
import type { Scheduler } from "../sched/scheduler.ts";
import type { Backend } from "./backend.ts";
import { type Server, SRV_ADMIN_DRAIN, SRV_ADMIN_MAINT, SRV_ADMIN_READY } from "./server.ts";

/** What stats show of a server's checks. */
export interface CheckView {
  code: string;
  info: string;
  health: number;
}

/** Health checks of a backend's servers. */
export class BackendChecks {
  readonly #sched: Scheduler;
  readonly #be: Backend;
  readonly #tasks = new Map<Server, CheckTask>();
  readonly #make = new Map<Server, () => CheckTask>();
  /** Servers whose checks maintenance stopped. */
  readonly #paused = new Set<Server>();
  readonly #agents = new Map<Server, AgentTask>();
  /** Servers an agent said down, stopped or failed (until it says up). */
  readonly #agentDown = new Set<Server>();
  #started = false;
  /**
   * `option log-health-checks`: where a line goes for each check result that
   * changes the server's check status or health, or null.
   */
  logChecks: ((line: string) => void) | null = null;
  /** The last check status and health of each server, for `logChecks`. */
  readonly #prev = new Map<Server, { code: string; health: number }>();

  /**
   * `checks[i]` and `agents[i]` are the health check and the agent check of
   * `be.servers[i]`, or null for none.
   */
  constructor(
    sched: Scheduler,
    be: Backend,
    cfgs: {
      checks: readonly (CheckConfig | null)[];
      agents?: readonly (AgentConfig | null)[];
    },
  ) {
    this.#sched = sched;
    this.#be = be;
    be.servers.forEach((srv, i) => {
      const agent = cfgs.agents?.[i] ?? null;
      if (agent !== null) {
        this.#agents.set(srv, new AgentTask(sched, agent, (o) => this.#onAgent(srv, o)));
      }
      const cfg = cfgs.checks[i];
      if (cfg === null) return;
      const addr = srv.addr.kind === "unix"
        ? { path: srv.addr.path }
        : { host: srv.addr.host, port: cfg.port ?? srv.addr.port };
      const target: CheckTarget = {
        name: `${be.name}/${srv.name}`,
        addr,
        onCheck: (r, t) => this.#onCheck(srv, r, t),
      };
      // Like HAProxy, a checked server starts up but one failed check from
      // down: a dead server is found by the first check.
      const make = () => new CheckTask(sched, target, cfg, { init: srv.opUp ? "up" : "down" });
      this.#make.set(srv, make);
      this.#tasks.set(srv, make());
    });
    be.onObserveLimit = (srv, action, reason) => this.#observeLimit(srv, action, reason);
  }

  /** Starts checking every server not in maintenance. */
  start(): void {
    this.#started = true;
    for (const agent of this.#agents.values()) agent.start();
    for (const [srv, task] of this.#tasks) {
      if (srv.admin !== SRV_ADMIN_MAINT) task.start();
      else this.#paused.add(srv);
    }
  }

  /** Stops every check (instance shutdown). */
  stop(): void {
    this.#started = false;
    for (const task of this.#tasks.values()) task.stop();
    for (const agent of this.#agents.values()) agent.stop();
  }

  /** The server's admin state changed: maintenance stops its checks, leaving it restarts them. */
  adminChanged(srv: Server): void {
    const task = this.#tasks.get(srv);
    if (task === undefined || !this.#started) return;
    if (srv.admin === SRV_ADMIN_MAINT) {
      task.stop();
      this.#paused.add(srv);
      return;
    }
    if (!this.#paused.delete(srv)) return;
    // A stopped task is done for good: a new one picks up from the server's state.
    const fresh = this.#make.get(srv)!();
    this.#tasks.set(srv, fresh);
    fresh.start();
  }

  /** Last result and health of a server's checks, or null when it has none. */
  view(srv: Server): CheckView | null {
    const task = this.#tasks.get(srv);
    if (task === undefined) return null;
    const st = task.stats;
    return { code: st.last?.code ?? "INI", info: st.last?.info ?? "", health: st.health };
  }

  #onCheck(srv: Server, r: CheckResult, t: CheckTransition): void {
    if (!r.ok) {
      srv.counters.chkfail++;
      this.#be.counters.chkfail++;
    }
    if (this.logChecks !== null) this.#logCheck(srv, r);
    if (t === null) return;
    // Coming up needs the agent's consent too.
    if (t === "up" && this.#agentDown.has(srv)) return;
    let reason = r.reason;
    if (r.status !== undefined) reason += `, code: ${r.status}`;
    if (r.info !== "") reason += `, info: "${r.info}"`;
    reason += `, check duration: ${r.durationMs}ms`;
    this.#be.setOpState(srv, t === "up", reason, this.#sched.now);
  }

  /**
   * An agent's answer, applied as HAProxy's tcpcheck_agent_expect_reply():
   * admin state first, then weight and maxconn, then the health opinion.
   */
  #onAgent(srv: Server, o: AgentOutcome): void {
    if ("error" in o) return; // unreachable or mute: the health check decides
    const be = this.#be, now = this.#sched.now;
    const r = agentParse(o.line);
    let warn: string | null = null;
    if (r.admin !== null) {
      const admin = r.admin === "maint"
        ? SRV_ADMIN_MAINT
        : r.admin === "drain"
        ? SRV_ADMIN_DRAIN
        : SRV_ADMIN_READY;
      if (srv.admin !== admin) {
        be.setAdmin(srv, admin, now);
        this.adminChanged(srv);
      }
    }
    if (r.weight !== null) {
      const m = /^([0-9]+)%$/.exec(r.weight);
      if (m === null) warn = `invalid weight "${r.weight}"`;
      else {
        const w = Math.min(256, Math.floor(srv.iweight * Math.min(Number(m[1]), 25600) / 100));
        if (w !== srv.uweight) be.setWeight(srv, w, now);
      }
    }
    if (r.maxconn !== null) {
      const n = /^[0-9]{1,7}$/.test(r.maxconn) ? Number(r.maxconn) : -1;
      if (n < 0 || n > 1_000_000) warn ??= `invalid maxconn "${r.maxconn}"`;
      else if (n !== srv.maxconnCfg) be.setMaxconn(srv, n);
    }
    if (r.health === null) return;
    const up = r.health === "up";
    let msg = r.desc;
    if (msg === "" || up) msg = r.err ?? warn ?? msg;
    const info = `via agent : ${r.health}${msg === "" ? "" : ` (${msg})`}`;
    if (up) {
      this.#agentDown.delete(srv);
      // Up again only if the health check (when there is one) agrees.
      const task = this.#tasks.get(srv);
      if (task !== undefined && !task.up) return;
      be.setOpState(srv, true, `Layer7 check passed, info: "${info}"`, now);
    } else {
      this.#agentDown.add(srv);
      be.setOpState(srv, false, `Layer7 wrong status, info: "${info}"`, now);
    }
  }

  /**
   * `option log-health-checks`: a line when the check status or the health
   * changed (HAProxy's set_server_check_status()), such as `Health check for
   * server app/s1 failed, reason: Layer4 connection problem, info:
   * "Connection refused", check duration: 0ms, status: 2/3 UP.`
   */
  #logCheck(srv: Server, r: CheckResult): void {
    const st = this.#tasks.get(srv)?.stats;
    if (st === undefined) return;
    const prev = this.#prev.get(srv);
    const h = st.health;
    this.#prev.set(srv, { code: r.code, health: h });
    if (prev !== undefined && prev.code === r.code && prev.health === h) return;
    let line =
      `Health check for ${srv.backup ? "backup " : ""}server ${this.#be.name}/${srv.name} ` +
      `${r.ok ? "succeeded" : "failed"}, reason: ${r.reason}`;
    if (r.status !== undefined) line += `, code: ${r.status}`;
    if (r.info !== "") line += `, info: "${r.info}"`;
    line += `, check duration: ${r.durationMs}ms`;
    const up = h >= st.rise;
    line += `, status: ${up ? h - st.rise + 1 : h}/${up ? st.fall : st.rise} ` +
      `${up ? (srv.uweight > 0 ? "UP" : "DRAIN") : "DOWN"}.`;
    this.logChecks!(line);
  }

  /** Passive observation hit its limit: the check task reports back through `onCheck`. */
  #observeLimit(srv: Server, action: string, reason: string): void {
    const task = this.#tasks.get(srv);
    if (task === undefined) return;
    if (action === "mark-down") task.forceDown(reason);
    else {
      task.failPassive(reason);
      if (action === "fastinter") task.setFastinter();
    }
  }
}
