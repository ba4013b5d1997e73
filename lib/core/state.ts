/**
 * Branded state numbers: each state machine (stream interface, request,
 * response) gets its own type, so that a state of one cannot be assigned to
 * or compared with a field of another without a cast, while states stay
 * plain numbers at run time (ordered, indexable, free).
 *
 * @module
 */

declare const stateOf: unique symbol;

/**
 * A state of the state machine named `Machine`: a number that only that
 * machine's constants carry (`export const RQ_WAIT = 0 as State<"rq">`).
 */
export type State<Machine extends string> = number & { readonly [stateOf]: Machine };
