import * as v from "valibot";

/**
 * A validation failure said without the offending values: issue messages may quote the input,
 * and the input may be a customer's message.
 */
export function describeIssues(issues: readonly v.BaseIssue<unknown>[]): string {
  return issues
    .slice(0, 5)
    .map((i) => `${v.getDotPath(i) ?? "(root)"}: expected ${i.expected ?? "a valid value"}`)
    .join("; ")
    .slice(0, 500);
}
