import { MAX_TEXT_LENGTH } from "@concierge/core";
import {
  EMAIL_CANARIES,
  EMAIL_TOKEN_PLACEHOLDER,
  type EmailFixtureName,
  emailFixtures,
  oversizeEmail,
  replaceAll,
  withHeaders,
} from "@concierge/testing/email-fixtures";
import { describe, expect, it } from "vitest";
import { isAutomaticEmail } from "./email.ts";
import { emailFacts, htmlToPlainText, MAX_EMAIL_BYTES, parseEmail } from "./email-parse.ts";

const names = Object.keys(emailFixtures) as EmailFixtureName[];

describe("parseEmail on every fixture", () => {
  it.each(names)("%s: parses, keeps its canary in the text, has a well-formed Message-ID", async (name) => {
    const p = await parseEmail(emailFixtures[name]);
    expect(p.text).toContain(EMAIL_CANARIES[name]);
    expect(p.messageId).toMatch(/^<[^<>\s]+@[^<>\s]+>$/);
    expect(p.from).toBe(p.from.toLowerCase());
    expect(p.from).toMatch(/@/);
    expect(p.to.length).toBeGreaterThan(0);
    expect(emailFixtures[name]).not.toMatch(/[^\r]\n/); // CRLF throughout, as on the wire
  });

  it("plain text: addresses, subject, text, date, no attachment", async () => {
    const p = await parseEmail(emailFixtures.plainText);
    expect(p).toMatchObject({
      messageId: "<plain-1@customer.example>",
      from: "priya@customer.example",
      fromName: "Priya Sharma",
      to: ["hello@acme.cncg.email"],
      subject: "Do you deliver on Sundays?",
      text: "Hi,\n\nDo you deliver to Koramangala on Sundays? canary-eml-plain-text\n\nThanks,\nPriya",
      html: null,
      inReplyTo: null,
      references: [],
      date: Date.parse("2026-11-17T09:12:01Z"),
      hasAttachment: false,
      attachments: [],
    });
    expect(p.headers.get("subject")).toBe("Do you deliver on Sundays?");
    expect(p.headers.get("X-Missing")).toBeNull();
  });

  it("HTML only: the text is the HTML as readable text, without script, style or title", async () => {
    const p = await parseEmail(emailFixtures.htmlOnly);
    expect(p.text).toBe(
      "Hello,\n\nCan I book a table for four on Friday & Saturday?\ncanary-eml-html-only\n\nOmar",
    );
    expect(p.html).toContain("<p>Hello,</p>");
  });

  it("alternative plus PDF: text part preferred, one real attachment with its bytes", async () => {
    const p = await parseEmail(emailFixtures.multipartAlternativeAttachments);
    expect(p.text).toBe("Please find invoice 1042 attached. canary-eml-multipart-alternative-attachments");
    expect(p.html).toContain("<b>invoice 1042</b>");
    expect(p.to).toEqual(["orders@acme.cncg.email"]);
    expect(p.hasAttachment).toBe(true);
    expect(p.attachments).toHaveLength(1);
    const a = p.attachments[0]!;
    expect(a).toMatchObject({ filename: "invoice-1042.pdf", contentType: "application/pdf", inline: false });
    const bytes = Uint8Array.from(atob(a.data), (c) => c.charCodeAt(0));
    expect(a.size).toBe(bytes.length);
    expect(new TextDecoder().decode(bytes.subarray(0, 8))).toBe("%PDF-1.4");
  });

  it("an inline image referenced by cid is not an attachment", async () => {
    const p = await parseEmail(emailFixtures.inlineImage);
    expect(p.hasAttachment).toBe(false);
    expect(p.attachments).toHaveLength(1);
    expect(p.attachments[0]).toMatchObject({
      contentType: "image/png",
      inline: true,
      contentId: "<cake-photo@customer.example>",
    });
    expect(p.text).toBe("Is this cake available for Saturday? canary-eml-inline-image");
  });

  it("the same image without a cid reference from the HTML is a real attachment", async () => {
    const raw = replaceAll(emailFixtures.inlineImage, { 'src="cid:cake-photo@customer.example"': 'src="x"' });
    const p = await parseEmail(raw);
    expect(p.hasAttachment).toBe(true);
    expect(p.attachments[0]?.contentId).toBe("<cake-photo@customer.example>");
  });

  it("ISO-2022-JP subject, sender name and body decode to Japanese", async () => {
    const p = await parseEmail(emailFixtures.iso2022jp);
    expect(p.subject).toBe("配達について");
    expect(p.fromName).toBe("田中");
    expect(p.text).toBe("こんにちは。\n注文の配達日を教えてください。\ncanary-eml-iso-2022-jp\n田中");
  });

  it("windows-1252 quoted-printable decodes smart quotes, € and é", async () => {
    const p = await parseEmail(emailFixtures.windows1252);
    expect(p.subject).toBe("Café brunch €");
    expect(p.fromName).toBe("René Dubois");
    expect(p.text).toBe(
      "Hi,\n\n“Is the café open on Sunday?” The €25 brunch, I mean.\ncanary-eml-windows-1252\n\nRené",
    );
  });

  it("adjacent RFC 2047 words in different charsets join into one subject", async () => {
    const p = await parseEmail(emailFixtures.encodedWordSubject);
    expect(p.subject).toBe("Grüße aus München: Bestätigung");
    expect(p.fromName).toBe("Jürgen Müller");
  });

  it("a reply to an alias keeps threading ids and the token's case", async () => {
    const raw = replaceAll(emailFixtures.replyToAlias, { [EMAIL_TOKEN_PLACEHOLDER]: "AbC123_x" });
    const p = await parseEmail(raw);
    expect(p.to).toEqual(["reply+AbC123_x@acme.cncg.email"]);
    expect(p.inReplyTo).toBe("<concierge-reply-1@acme.cncg.email>");
    expect(p.references).toEqual(["<plain-1@customer.example>", "<concierge-reply-1@acme.cncg.email>"]);
    expect(p.subject).toBe("Re: Do you deliver on Sundays?");
  });

  it("a missing Message-ID is synthesised from the bytes: stable for the same message, different otherwise", async () => {
    const bare = withHeaders(emailFixtures.plainText, { "Message-ID": null });
    expect(bare).not.toMatch(/^Message-ID:/im);
    const a = await parseEmail(bare);
    const b = await parseEmail(new TextEncoder().encode(bare));
    const c = await parseEmail(replaceAll(bare, { Sundays: "Mondays" }));
    expect(a.messageId).toMatch(/^<[0-9a-f]{32}@synthesised\.invalid>$/);
    expect(b.messageId).toBe(a.messageId);
    expect(c.messageId).not.toBe(a.messageId);
    const garbage = await parseEmail(withHeaders(emailFixtures.plainText, { "Message-ID": "not an id" }));
    expect(garbage.messageId).toMatch(/@synthesised\.invalid>$/);
  });

  it("a synthesised Message-ID is the same on every delivery, whatever trace headers it gained", async () => {
    const bare = withHeaders(emailFixtures.plainText, { "Message-ID": null });
    // Each delivery attempt prepends its own trace and verdict headers, timestamps included.
    const delivered = (at: string) =>
      `Received: from mail.customer.example by mx.cloudflare.net; ${at}\r\n` +
      `ARC-Authentication-Results: i=1; mx.cloudflare.net; spf=pass smtp.mailfrom=customer.example; t=${at.length}\r\n` +
      bare;
    const first = await parseEmail(delivered("Fri, 04 Dec 2026 10:00:00 +0000"));
    const retry = await parseEmail(delivered("Fri, 04 Dec 2026 10:05:31 +0000 (retried)"));
    expect(first.messageId).toMatch(/@synthesised\.invalid>$/);
    expect(retry.messageId).toBe(first.messageId);
    expect((await parseEmail(bare)).messageId).toBe(first.messageId);
    // Another body, another subject or another sender is another mail.
    const body = bare.slice(bare.indexOf("\r\n\r\n"));
    const otherBody = bare.replace(body, `${body}\r\nP.S. one more line`);
    expect((await parseEmail(otherBody)).messageId).not.toBe(first.messageId);
    expect((await parseEmail(withHeaders(bare, { Subject: "Another subject" }))).messageId).not.toBe(
      first.messageId,
    );
    expect(
      (await parseEmail(withHeaders(bare, { From: "Someone Else <else@customer.example>" }))).messageId,
    ).not.toBe(first.messageId);
  });

  it("a mail with neither Message-ID nor Date gets its id from all its bytes, so repeats are not merged", async () => {
    const undated = withHeaders(emailFixtures.plainText, { "Message-ID": null, Date: null });
    expect(undated).not.toMatch(/^Date:/im);
    const a = await parseEmail(`Received: by relay.example; one\r\n${undated}`);
    const b = await parseEmail(`Received: by relay.example; two\r\n${undated}`);
    expect(a.messageId).toMatch(/@synthesised\.invalid>$/);
    expect(b.messageId).not.toBe(a.messageId);
  });

  it("accepts a ReadableStream and an ArrayBuffer as well as a string", async () => {
    const bytes = new TextEncoder().encode(emailFixtures.windows1252);
    const fromStream = await parseEmail(new Blob([bytes]).stream());
    const fromBuffer = await parseEmail(bytes.buffer);
    expect(fromStream.text).toBe((await parseEmail(emailFixtures.windows1252)).text);
    expect(fromBuffer.subject).toBe("Café brunch €");
  });

  it("drops malformed threading ids instead of passing them on", async () => {
    const raw = withHeaders(emailFixtures.plainText, {
      "In-Reply-To": "garbage",
      References: "<ok@customer.example> junk <also ok@x> <fine@y.example>",
    });
    const p = await parseEmail(raw);
    expect(p.inReplyTo).toBeNull();
    expect(p.references).toEqual(["<ok@customer.example>", "<fine@y.example>"]);
  });

  it("caps the text at MAX_TEXT_LENGTH without splitting a surrogate pair", async () => {
    const body = `${"x".repeat(MAX_TEXT_LENGTH - 1)}😀 and more`;
    const raw = `From: a@customer.example\r\nTo: hello@acme.cncg.email\r\nSubject: long\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${body}\r\n`;
    const p = await parseEmail(raw);
    expect(p.text.length).toBeLessThanOrEqual(MAX_TEXT_LENGTH);
    expect(p.text).toBe("x".repeat(MAX_TEXT_LENGTH - 1));
  });
});

describe("isAutomaticEmail on the fixtures", () => {
  const check = async (name: EmailFixtureName, envelopeFrom: string) =>
    isAutomaticEmail((await parseEmail(emailFixtures[name])).headers, envelopeFrom);

  it("flags the vacation reply, the bounce and the mailing list", async () => {
    expect(await check("vacationAutoReply", "jane@customer.example")).toEqual({
      automatic: true,
      reason: "auto_submitted",
    });
    expect(await check("bounceDsn", "")).toEqual({ automatic: true, reason: "dsn" });
    expect((await check("mailingList", "bounces+news-1234@lists.shop.example")).automatic).toBe(true);
  });

  it("does not flag the customers' own mail", async () => {
    for (const name of [
      "plainText",
      "htmlOnly",
      "multipartAlternativeAttachments",
      "inlineImage",
      "iso2022jp",
      "windows1252",
      "encodedWordSubject",
      "replyToAlias",
    ] as const) {
      expect(await check(name, "someone@customer.example"), name).toEqual({ automatic: false, reason: null });
    }
  });
});

describe("emailFacts", () => {
  it("takes the envelope recipient, the sender, subject, text and attachment flag", async () => {
    const p = await parseEmail(emailFixtures.multipartAlternativeAttachments);
    expect(emailFacts(p, "orders@acme.cncg.email")).toEqual({
      from: "li.wei@customer.example",
      to: "orders@acme.cncg.email",
      subject: "Invoice 1042 attached",
      body: "Please find invoice 1042 attached. canary-eml-multipart-alternative-attachments",
      hasAttachment: true,
    });
  });
});

describe("size limit", () => {
  it("oversizeEmail() is just over MAX_EMAIL_BYTES and still well-formed MIME", async () => {
    const raw = oversizeEmail();
    expect(raw.length).toBeGreaterThan(MAX_EMAIL_BYTES);
    expect(raw.length).toBeLessThan(MAX_EMAIL_BYTES + 200);
    const small = await parseEmail(oversizeEmail(4000));
    expect(small.hasAttachment).toBe(true);
    expect(small.text).toContain("canary-eml-oversize");
  });
});

describe("htmlToPlainText", () => {
  it("decodes entities, breaks blocks into lines and ignores unterminated markup", () => {
    expect(htmlToPlainText("<div>a &lt;b&gt; &#8364;5 &#x1F600; &euro;</div><div>next</div>")).toBe(
      "a <b> €5 😀 €\n\nnext",
    );
    expect(htmlToPlainText("text <b")).toBe("text");
    expect(htmlToPlainText("<!-- hidden -->shown<!-- open")).toBe("shown");
    expect(htmlToPlainText("<STYLE>x{}</STYLE>Visible &bogus; &#0;")).toBe("Visible &bogus; &#0;");
  });

  it("is fast on hostile input", () => {
    const start = performance.now();
    htmlToPlainText("<".repeat(200_000));
    htmlToPlainText("<a ".repeat(100_000));
    htmlToPlainText("<script>".repeat(50_000));
    expect(performance.now() - start).toBeLessThan(2000);
  });
});
