import {
  type Operator,
  OperatorSchema,
  type RpcResult,
  createLogger,
  describeIssues,
  errorBody,
  errorFields,
} from "@concierge/core";
import * as v from "valibot";

const log = createLogger("pipeline.operator");

/**
 * The boundary of every operator write: the operator (the verified Access token's email, as the
 * dashboard passed it) and the input are validated with the contract's schemas before anything
 * runs. A refusal is the one error envelope, and nothing has changed. A failure while it runs (D1
 * or the queue unavailable) is the envelope too, code `internal`, instead of an exception across
 * the RPC boundary: the panel shows it as a refusal. It is logged by method and error only,
 * never with the input (a reason or a prompt is the operator's text).
 */
export async function asOperator<S extends v.GenericSchema, T extends object>(
  method: string,
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
  try {
    return await run(who.output, parsed.output);
  } catch (err) {
    log.error("operator.failed", { ...errorFields(err), method });
    return errorBody(
      "internal",
      "Something failed on our side; the change may not have been made. Try again.",
    );
  }
}
