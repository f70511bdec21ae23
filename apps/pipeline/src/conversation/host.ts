import type { PipelineEnv } from "../env.ts";
import type { ConversationStore } from "./store.ts";

/**
 * What the conversation's modules need of the Durable Object that runs them (object.ts): its
 * bindings, its store, and its alarm. Lets them work without importing the class.
 */
export interface ConversationHost {
  readonly env: PipelineEnv;
  readonly store: ConversationStore;
  /**
   * Set when the tenant was deleted and this object purged: work still in flight (a turn awaiting
   * the model) must neither write again nor re-arm the alarm. Its tables are gone as well, so any
   * write it attempts fails instead of re-creating data.
   */
  readonly purged: boolean;
  /** Every alarm goes through here: a purged object never arms one again. */
  arm(at: number): Promise<void>;
  alarmArmed(): Promise<boolean>;
  /** When the alarm is armed for (null: not armed). */
  alarmAt(): Promise<number | null>;
  /** Everything this thread holds, and its alarm, go at once (the tenant is deleted). */
  purge(): Promise<void>;
  /**
   * The same for a thread idle past the tenant's retention, but the object stays open: the
   * customer's next message starts a new thread here (not `purged`).
   */
  forget(): Promise<void>;
}
