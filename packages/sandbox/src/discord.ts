/** A fake of the Discord REST API: records channel messages (Create Message) as Discord answers. */
export type DiscordMessage = { id: string; channelId: string; content: string; at: number };

export class FakeDiscord {
  readonly messages: DiscordMessage[] = [];
  private seq = 0;
  private readonly token: string | null;

  constructor(token: string | null) {
    this.token = token;
  }

  createMessage(
    channelId: string,
    authorization: string | undefined,
    raw: string,
  ): { status: number; body: unknown } {
    if (this.token !== null && authorization !== `Bot ${this.token}`) {
      return { status: 401, body: { message: "401: Unauthorized", code: 0 } };
    }
    let body: { content?: string };
    try {
      body = JSON.parse(raw) as { content?: string };
    } catch {
      return { status: 400, body: { message: "Invalid Form Body", code: 50035 } };
    }
    if (!body.content) return { status: 400, body: { message: "Cannot send an empty message", code: 50006 } };
    this.seq += 1;
    const id = String(1_300_000_000_000_000_000n + BigInt(this.seq));
    this.messages.push({ id, channelId, content: body.content, at: Date.now() });
    return { status: 200, body: { id, channel_id: channelId, content: body.content, type: 0 } };
  }
}
