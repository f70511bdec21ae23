import { createChannelAccount, createTenant, getTenant, saveReplyConfig } from "@concierge/storage";

/** The demo tenant `npm start` seeds and the tests build on: one WhatsApp number, canned rules. */
export const DEMO = {
  tenantId: "t_demo",
  tenantName: "Chai & Co. (demo)",
  whatsapp: {
    accountId: "acc_demo_whatsapp",
    phoneNumberId: "100200300400500",
    displayPhoneNumber: "+91 98765 43210",
  },
  replyConfig: {
    enabled: true,
    wait_seconds: 2,
    rules: [
      {
        id: "hours",
        label: "Hours / location",
        matcher: { kind: "static_text", keywords: ["hours", "open", "closed", "address"] },
        response: { kind: "canned", text: "We're open 7am–7pm every day at 12 MG Road. Come say hi! ☕" },
      },
      {
        id: "menu",
        label: "Menu and prices",
        matcher: { kind: "static_text", keywords: ["menu", "price", "cost"] },
        response: {
          kind: "canned",
          text: "Our menu is at chai.example/menu: masala chai, filter coffee and snacks.",
        },
      },
    ],
    default_rule: {
      response: { kind: "canned", text: "Thanks for your message! We'll get back to you shortly." },
    },
  },
} as const;

/** Idempotent: running it again leaves one demo tenant exactly as defined here. */
export async function seedDemoTenant(
  db: D1Database,
  masterKeyB64: string,
  overrides: { waitSeconds?: number } = {},
): Promise<void> {
  if (!(await getTenant(db, DEMO.tenantId))) {
    await createTenant(db, masterKeyB64, { id: DEMO.tenantId, name: DEMO.tenantName, locale: "en-IN" });
  }
  const existing = await db
    .prepare("SELECT id FROM channel_accounts WHERE id = ?")
    .bind(DEMO.whatsapp.accountId)
    .first();
  if (!existing) {
    await createChannelAccount(db, {
      id: DEMO.whatsapp.accountId,
      tenantId: DEMO.tenantId,
      channel: "whatsapp",
      externalId: DEMO.whatsapp.phoneNumberId,
      displayName: DEMO.whatsapp.displayPhoneNumber,
    });
  }
  await saveReplyConfig(db, DEMO.tenantId, DEMO.whatsapp.accountId, {
    ...DEMO.replyConfig,
    wait_seconds: overrides.waitSeconds ?? DEMO.replyConfig.wait_seconds,
  });
}
