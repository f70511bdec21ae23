// Issue 7's end to end: a WhatsApp message matched to an `always`-approval AI rule → the relay's
// embed in the fake Discord inbox channel → Approve, signed as Discord signs it → the reply
// reaches the fake Graph API once, and the inbox message is edited to show who approved.
import { env } from "cloudflare:workers";
import { saveDiscordInstall, saveReplyConfig, updateDiscordSettings } from "@concierge/storage";
import { sentTo } from "@concierge/testing/sandbox-client";
import { expect, it, vi } from "vitest";
import {
  STAFF,
  approvePersona,
  inboundText,
  interaction,
  newWhatsAppAccount,
  post,
  setBalance,
  tenantId,
  uniqueCustomer,
  webhookCalls,
} from "./helpers.ts";

const GUILD = "920000000000000001";
type FakeMessage = { id: string; channelId: string; embeds: unknown[]; components: unknown[] };

it("a held WhatsApp draft relayed to Discord is approved with a signed click: sent once, and the message shows who approved", async () => {
  const g = (await (
    await fetch(`${env.SANDBOX_URL}/__sandbox/discord/guilds`, {
      method: "POST",
      body: JSON.stringify({ id: GUILD, name: "Chai & Co. staff" }),
    })
  ).json()) as { guild: { channels: { id: string; name: string }[] } };
  const inbox = g.guild.channels.find((c) => c.name === "inbox")!.id;
  await saveDiscordInstall(env.DB, {
    tenantId,
    guildId: GUILD,
    guildName: "Chai & Co. staff",
    installedBy: null,
  });
  await updateDiscordSettings(env.DB, tenantId, {
    inboxChannelId: inbox,
    staffRoleId: STAFF.roles![0]!,
    relayMode: "needs_human",
    afterHumanReply: "silent",
  });
  await approvePersona();
  await setBalance(5);
  const account = await newWhatsAppAccount();
  await saveReplyConfig(env.DB, tenantId, account.id, {
    wait_seconds: 0,
    rules: [],
    default_rule: { response: { kind: "prompt", text: "Answer kindly." }, approval: "always" },
  });
  const customer = uniqueCustomer();
  await env.PIPELINE_INGEST.ingest([
    inboundText(account.externalId, customer, "Do you deliver to Indiranagar?"),
  ]);

  const inboxMessages = async () => {
    const r = await fetch(`${env.SANDBOX_URL}/__sandbox/discord?channel=${inbox}`);
    return ((await r.json()) as { messages: FakeMessage[] }).messages;
  };
  await vi.waitUntil(
    async () => (await inboxMessages()).some((m) => JSON.stringify(m.components).includes("relay:approve:")),
    {
      timeout: 10_000,
    },
  );
  const posted = (await inboxMessages()).find((m) =>
    JSON.stringify(m.components).includes("relay:approve:"),
  )!;
  const approveId = /"(relay:approve:[\w-]+)"/.exec(JSON.stringify(posted.components))![1]!;
  expect(await sentTo(env.SANDBOX_URL, customer)).toHaveLength(0);

  const click = () =>
    interaction(3, {
      guild_id: GUILD,
      channel_id: inbox,
      data: { custom_id: approveId, component_type: 2 },
      message: { id: posted.id, channel_id: inbox, embeds: posted.embeds, components: posted.components },
    });
  const first = click();
  expect(await (await post(first)).json()).toEqual({ type: 6 });
  const [edit] = await webhookCalls(first.token);
  expect(edit!.kind).toBe("edit_original");
  expect(edit!.body.components).toEqual([]);
  const embed = edit!.body.embeds![0]!;
  expect(embed.fields!.at(-1)!.value).toMatch(/^Approved by Asha · <t:\d{10}:f>$/);

  await vi.waitUntil(async () => (await sentTo(env.SANDBOX_URL, customer)).length > 0, { timeout: 8000 });
  const again = await post(click());
  expect(await again.json()).toMatchObject({
    type: 4,
    data: { content: expect.stringMatching(/^Already handled by Asha/), flags: 64 },
  });
  const sent = await sentTo(env.SANDBOX_URL, customer);
  expect(sent).toHaveLength(1);
  expect(sent[0]!.text).toMatch(/^\[offline AI\]/);
});
