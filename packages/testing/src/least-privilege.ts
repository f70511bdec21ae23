// For Worker tests: proves a service binding to the pipeline reaches its own entrypoint's methods
// and nothing else (least privilege, ARCHITECTURE.md §1).
import { type EntrypointName, foreignMethods } from "@concierge/core";

/**
 * Calls every method of the pipeline's other entrypoints through `binding` (with no arguments)
 * and returns those that were not refused as unknown; an empty list is the proof. A method the
 * binding did implement would run and be listed, whatever it answered.
 */
export async function methodsReachedOutside(binding: unknown, own: EntrypointName): Promise<string[]> {
  const stub = binding as Record<string, (...args: unknown[]) => Promise<unknown>>;
  const reached: string[] = [];
  for (const method of foreignMethods(own)) {
    try {
      await stub[method]!();
      reached.push(method);
    } catch (err) {
      const refused = `The RPC receiver does not implement the method "${method}".`;
      if ((err as Error).message !== refused) reached.push(`${method}: ${(err as Error).message}`);
    }
  }
  return reached;
}
