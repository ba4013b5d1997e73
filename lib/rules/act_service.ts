/**
 * `use-service NAME` (requests): hands the request to a service of this
 * process (`prometheus-exporter`), which answers it. The frontend makes the
 * answer when the rule fires (see `Frontend.services`).
 *
 * @module
 */
import { actFail } from "./http_act_args.ts";
import {
  type HttpAct,
  type HttpActCompile,
  type RuleAnswer,
  type Service,
  SERVICES,
} from "./http_act_types.ts";

/** Answers with a service, named at load time. */
class ServiceAct implements HttpAct {
  readonly answer: RuleAnswer;

  constructor(name: Service) {
    this.answer = { kind: "service", name };
  }

  run(): RuleAnswer {
    return this.answer;
  }
}

/** Compiles `use-service NAME`. */
export function actServiceCompile(w: readonly string[], c: HttpActCompile): HttpAct {
  const name = (SERVICES as readonly string[]).find((x) => x === w[0]) as Service | undefined;
  if (name === undefined) {
    actFail(
      c.where,
      `unknown service ${JSON.stringify(w[0] ?? "")} (supported: ${SERVICES.join(", ")})`,
    );
  }
  if (w.length > 1) {
    actFail(c.where, `unexpected ${JSON.stringify(w[1])} after use-service ${name}`);
  }
  return new ServiceAct(name);
}
