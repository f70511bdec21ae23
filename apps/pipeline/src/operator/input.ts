import { type Operator, OperatorSchema, type RpcResult, describeIssues, errorBody } from "@concierge/core";
import * as v from "valibot";

/**
 * The boundary of every operator write: the operator (the verified Access token's email, as the
 * dashboard passed it) and the input are validated with the contract's schemas before anything
 * runs. A refusal is the one error envelope, and nothing has changed.
 */
export async function asOperator<S extends v.GenericSchema, T extends object>(
  operator: unknown,
  schema: S,
  input: unknown,
  run: (operator: Operator, input: v.InferOutput<S>) => Promise<RpcResult<T>>,
): Promise<RpcResult<T>> {
  const who = v.safeParse(OperatorSchema, operator);
  if (!who.success)
    return errorBody("invalid_operator", "The operator's identity is missing or not an email.");
  const parsed = v.safeParse(schema, input);
  if (!parsed.success) return errorBody("invalid_input", describeIssues(parsed.issues));
  return run(who.output, parsed.output);
}
