import { signMeta, utf8 } from "@concierge/crypto";

/**
 * Real-shaped Meta webhook payloads, as the WhatsApp Cloud API documents them, and Meta's own
 * serialization: non-ASCII characters as \uXXXX escapes and "/" as "\/". The signature is over
 * those exact bytes, which is why ingress must verify the raw body and never re-serialized JSON.
 */

export type WhatsAppTextInput = {
  phoneNumberId: string;
  displayPhoneNumber?: string;
  from: string;
  name?: string;
  id?: string;
  text: string;
  timestamp?: number;
  wabaId?: string;
};

let counter = 0;
export function newWamid(): string {
  counter += 1;
  const rand = crypto.getRandomValues(new Uint8Array(12));
  let s = "";
  for (const b of rand) s += b.toString(16).padStart(2, "0");
  return `wamid.HBgL${Date.now().toString(36)}${counter.toString(36)}${s}`
    .toUpperCase()
    .replace("WAMID", "wamid");
}

export function whatsappTextMessage(m: WhatsAppTextInput) {
  return {
    from: m.from,
    id: m.id ?? newWamid(),
    timestamp: String(m.timestamp ?? Math.floor(Date.now() / 1000)),
    type: "text",
    text: { body: m.text },
  };
}

/** A `messages` webhook with one or more text messages to one phone number. */
export function whatsappWebhook(messages: WhatsAppTextInput[]) {
  const first = messages[0]!;
  return {
    object: "whatsapp_business_account",
    entry: [
      {
        id: first.wabaId ?? "102290129340398",
        changes: [
          {
            value: {
              messaging_product: "whatsapp",
              metadata: {
                display_phone_number: first.displayPhoneNumber ?? "15550783881",
                phone_number_id: first.phoneNumberId,
              },
              contacts: messages.map((m) => ({
                profile: { name: m.name ?? "Sheena Nelson" },
                wa_id: m.from,
              })),
              messages: messages.map(whatsappTextMessage),
            },
            field: "messages",
          },
        ],
      },
    ],
  };
}

/** JSON exactly as Meta serializes it: ASCII-only with \uXXXX escapes, and escaped slashes. */
export function metaJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)
    .replace(/\//g, "\\/");
}

/** Body bytes plus the headers Meta would send with them. */
export async function signedMetaRequest(appSecret: string, payload: unknown) {
  const body = metaJson(payload);
  const signature = await signMeta(appSecret, utf8(body));
  return {
    body,
    headers: { "content-type": "application/json", "x-hub-signature-256": signature },
  };
}
