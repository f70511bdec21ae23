/** Reading the sandbox's records from a test, wherever the test runs (Node or workerd). */
export type SentRecord = {
  id: string;
  phoneNumberId: string;
  to: string;
  type: string;
  text: string | null;
  contextMessageId: string | null;
};

export async function sentTo(sandboxUrl: string, to: string): Promise<SentRecord[]> {
  const r = await fetch(`${sandboxUrl}/__sandbox/sent?to=${encodeURIComponent(to)}`);
  return ((await r.json()) as { sent: SentRecord[] }).sent;
}

export async function graphAttempts(sandboxUrl: string): Promise<number> {
  const r = await fetch(`${sandboxUrl}/__sandbox/sent`);
  return ((await r.json()) as { attempts: number }).attempts;
}

export async function injectGraphFault(
  sandboxUrl: string,
  fault: { status: number; code: number; message: string; retryAfter?: number; count?: number },
): Promise<void> {
  await fetch(`${sandboxUrl}/__sandbox/faults`, { method: "POST", body: JSON.stringify(fault) });
}

/** A customer id no other test uses, so tests sharing one runtime never see each other's replies. */
export function uniqueCustomer(): string {
  return `91${String(Date.now()).slice(-8)}${Math.floor(Math.random() * 1e6)
    .toString()
    .padStart(6, "0")}`;
}
