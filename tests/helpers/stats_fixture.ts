/**
 * Stats snapshots for tests of the outputs (CSV, runtime API, metrics):
 * every counter 0 unless given.
 */
import type { ProxyStats, ServerStats } from "../../lib/stats/stats_types.ts";

export function px(name: string, o: Partial<ProxyStats> = {}): ProxyStats {
  return {
    name,
    scur: 0,
    smax: 0,
    stot: 0,
    bin: 0,
    bout: 0,
    econ: 0,
    eresp: 0,
    ereq: 0,
    wretr: 0,
    cli_abrt: 0,
    srv_abrt: 0,
    dcon: 0,
    dreq: 0,
    dresp: 0,
    rate: 0,
    rate_max: 0,
    req_rate: 0,
    req_rate_max: 0,
    req_tot: 0,
    hrsp_1xx: 0,
    hrsp_2xx: 0,
    hrsp_3xx: 0,
    hrsp_4xx: 0,
    hrsp_5xx: 0,
    hrsp_other: 0,
    ...o,
  };
}

export function srv(name: string, o: Partial<ServerStats> = {}): ServerStats {
  return {
    ...px(name),
    status: "UP",
    weight: 1,
    eweight: 1,
    backup: false,
    qcur: 0,
    qmax: 0,
    wredis: 0,
    chkfail: 0,
    chkdown: 0,
    check_status: "",
    check_desc: "",
    check_health: -1,
    lastchg: 0,
    downtime: 0,
    ...o,
  };
}
