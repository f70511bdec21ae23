import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  buildForwardEmail,
  buildNotificationEmail,
  buildReplyEmail,
  type ForwardEmail,
  isAutomaticEmail,
  isPlainAddress,
  LOOP_HEADER,
  type ReplyEmail,
} from "./email.ts";
import { parseEmail } from "./email-parse.ts";

describe("buildNotificationEmail", () => {
  it("builds an automatic message with the loop guard, from and to as given", () => {
    const raw = buildNotificationEmail({
      from: "alerts@notify.cncg.email",
      fromName: "Concierge",
      to: "owner@chai.example",
      subject: "A customer asked for a person",
      text: "Conversation conv_1 is waiting.",
    });
    expect(raw).toMatch(/^From: =\?utf-8\?B\?Q29uY2llcmdl\?= <alerts@notify\.cncg\.email>/m); // "Concierge", encoded
    expect(raw).toMatch(/^To: <?owner@chai\.example>?/m);
    expect(raw).toMatch(/^Auto-Submitted: auto-generated/m);
    expect(raw).toMatch(/^X-Concierge-Loop: 1/m);
    expect(raw).toContain("Conversation conv_1 is waiting.");
  });

  it("keeps line breaks out of the subject and refuses addresses that are not plain", () => {
    const raw = buildNotificationEmail({
      from: "a@b.co",
      to: "c@d.co",
      subject: "hi\r\nBcc: evil@x.co",
      text: "x",
    });
    expect(raw).not.toMatch(/^Bcc:/m);
    expect(() =>
      buildNotificationEmail({ from: "a@b.co", to: "c@d.co>\r\nBcc: e@x.co", subject: "s", text: "x" }),
    ).toThrow();
    expect(isPlainAddress("owner@chai.example")).toBe(true);
    expect(isPlainAddress("Owner <owner@chai.example>")).toBe(false);
  });
});

/** Names of the top-level header fields of a raw message (continuation lines belong to the field above). */
function topHeaderNames(raw: string): string[] {
  const head = raw.slice(0, raw.indexOf("\r\n\r\n"));
  return head
    .split("\r\n")
    .filter((l) => !/^[ \t]/.test(l))
    .map((l) => l.slice(0, l.indexOf(":")).toLowerCase());
}

const reply = (over: Partial<ReplyEmail> = {}): ReplyEmail => ({
  from: { addr: "hello@acme.cncg.email", name: "Acme Bakery" },
  to: "priya@customer.example",
  subject: "Do you deliver on Sundays?",
  inReplyTo: "<plain-1@customer.example>",
  references: ["<first@customer.example>"],
  text: "Yes, between 10am and 6pm. Grüße, €5 fee — “smart”.",
  automatic: true,
  messageIdDomain: "acme.cncg.email",
  ...over,
});

const forward = (over: Partial<ForwardEmail> = {}): ForwardEmail => ({
  from: { addr: "reply+tok_AbC@acme.cncg.email", name: "Priya via acme" },
  to: "owner@bakery.example",
  replyTo: "reply+tok_AbC@acme.cncg.email",
  subject: "Invoice 1042 attached",
  originalFrom: "priya@customer.example",
  originalDate: "Wed, 18 Nov 2026 08:30:00 +0800",
  text: "Please find invoice 1042 attached.",
  messageIdDomain: "acme.cncg.email",
  ...over,
});

describe("buildReplyEmail", () => {
  it("threads under the original and reads back with postal-mime", async () => {
    const { raw, messageId } = buildReplyEmail(reply());
    expect(messageId).toMatch(/^<[0-9a-f-]{36}@acme\.cncg\.email>$/);
    const p = await parseEmail(raw);
    expect(p.messageId).toBe(messageId);
    expect(p.from).toBe("hello@acme.cncg.email");
    expect(p.fromName).toBe("Acme Bakery");
    expect(p.to).toEqual(["priya@customer.example"]);
    expect(p.subject).toBe("Re: Do you deliver on Sundays?");
    expect(p.inReplyTo).toBe("<plain-1@customer.example>");
    expect(p.references).toEqual(["<first@customer.example>", "<plain-1@customer.example>"]);
    expect(p.headers.get("Auto-Submitted")).toBe("auto-replied");
    expect(p.headers.get(LOOP_HEADER)).toBe("1");
    expect(p.text).toBe("Yes, between 10am and 6pm. Grüße, €5 fee — “smart”.");
    expect(p.html).toBeNull();
    expect(isAutomaticEmail(p.headers, "hello@acme.cncg.email")).toEqual({ automatic: true, reason: "loop" });
  });

  it("gets a fresh Message-ID every time", () => {
    expect(buildReplyEmail(reply()).messageId).not.toBe(buildReplyEmail(reply()).messageId);
  });

  it("adds Re: only once, whatever its case, and omits Auto-Submitted for a person's reply", async () => {
    const p = await parseEmail(buildReplyEmail(reply({ subject: "RE: hello", automatic: false })).raw);
    expect(p.subject).toBe("RE: hello");
    expect(p.headers.get("Auto-Submitted")).toBeNull();
    expect((await parseEmail(buildReplyEmail(reply({ subject: "re:x" })).raw)).subject).toBe("re:x");
    expect((await parseEmail(buildReplyEmail(reply({ subject: "Rebooking" })).raw)).subject).toBe(
      "Re: Rebooking",
    );
  });

  it("sends text and HTML as multipart/alternative when HTML is given", async () => {
    const { raw } = buildReplyEmail(reply({ html: "<p>Yes, <b>between</b> 10am and 6pm.</p>" }));
    expect(raw).toMatch(/^Content-Type: multipart\/alternative;/m);
    const p = await parseEmail(raw);
    expect(p.html).toBe("<p>Yes, <b>between</b> 10am and 6pm.</p>");
    expect(p.text).toBe("Yes, between 10am and 6pm. Grüße, €5 fee — “smart”.");
  });

  it("keeps only the last 20 well-formed references and drops the rest", async () => {
    const many = Array.from({ length: 30 }, (_, i) => `<r${i}@customer.example>`);
    const p = await parseEmail(
      buildReplyEmail(reply({ references: ["junk", ...many, "<bad id@x>", "<r3@customer.example>"] })).raw,
    );
    expect(p.references).toHaveLength(20);
    expect(p.references.at(-1)).toBe("<plain-1@customer.example>");
    expect(p.references).not.toContain("junk");
    expect(p.references).toContain("<r29@customer.example>");
    // a whole header value is split into its ids
    const q = await parseEmail(buildReplyEmail(reply({ references: ["<a@x.example> <b@x.example>"] })).raw);
    expect(q.references).toEqual(["<a@x.example>", "<b@x.example>", "<plain-1@customer.example>"]);
  });

  it("keeps header lines short even for a long non-ASCII subject", async () => {
    const subject = "配達".repeat(150);
    const { raw } = buildReplyEmail(reply({ subject }));
    for (const line of raw.split("\r\n")) expect(line.length).toBeLessThanOrEqual(998);
    const head = raw.slice(0, raw.indexOf("\r\n\r\n"));
    for (const line of head.split("\r\n")) expect(line.length).toBeLessThanOrEqual(200);
    // capped at 200 characters, "Re: " included
    expect((await parseEmail(raw)).subject).toBe(`Re: ${subject.slice(0, 196)}`);
  });
});

describe("buildForwardEmail", () => {
  it("forwards under the relay address with Reply-To, the original sender and threading", async () => {
    const { raw, messageId } = buildForwardEmail(
      forward({ inReplyTo: "<alt-att-0@customer.example>", references: ["<alt-att-0@customer.example>"] }),
    );
    const p = await parseEmail(raw);
    expect(p.messageId).toBe(messageId);
    expect(p.from).toBe("reply+tok_abc@acme.cncg.email");
    expect(p.fromName).toBe("Priya via acme");
    expect(p.headers.get("Reply-To")).toBe("<reply+tok_AbC@acme.cncg.email>");
    expect(p.to).toEqual(["owner@bakery.example"]);
    expect(p.subject).toBe("Invoice 1042 attached");
    expect(p.headers.get("X-Original-From")).toBe("priya@customer.example");
    expect(p.headers.get("X-Original-Date")).toBe("Wed, 18 Nov 2026 00:30:00 GMT");
    expect(p.inReplyTo).toBe("<alt-att-0@customer.example>");
    expect(p.references).toEqual(["<alt-att-0@customer.example>"]);
    expect(p.headers.get(LOOP_HEADER)).toBe("1");
    expect(p.headers.get("Auto-Submitted")).toBeNull();
  });

  it("carries attachments and cid-referenced inline images intact", async () => {
    const pdf = btoa("%PDF-1.4 fake");
    const png =
      "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";
    const { raw } = buildForwardEmail(
      forward({
        html: '<p>See <img src="cid:cake@customer.example"></p>',
        attachments: [
          { filename: "invoice-1042.pdf", contentType: "application/pdf", data: pdf },
          {
            filename: "cake.png",
            contentType: "image/png",
            data: png,
            inline: true,
            contentId: "cake@customer.example",
          },
        ],
      }),
    );
    const p = await parseEmail(raw);
    expect(p.hasAttachment).toBe(true);
    const file = p.attachments.find((a) => a.filename === "invoice-1042.pdf");
    expect(file).toMatchObject({ contentType: "application/pdf", data: pdf, inline: false });
    const image = p.attachments.find((a) => a.filename === "cake.png");
    expect(image).toMatchObject({
      contentType: "image/png",
      contentId: "<cake@customer.example>",
      inline: true,
    });
    expect(image?.data).toBe(png);
    expect(p.text).toBe("Please find invoice 1042 attached.");
  });

  it("refuses attachment data that is not base64 and neutralises odd names and types", async () => {
    expect(() =>
      buildForwardEmail(
        forward({ attachments: [{ filename: "a", contentType: "text/plain", data: "***" }] }),
      ),
    ).toThrow();
    const { raw } = buildForwardEmail(
      forward({
        attachments: [
          {
            filename: 'evil"\r\nBcc: x@evil.example\r\n.pdf',
            contentType: "text/plain\r\nBcc: y@evil.example",
            data: btoa("x"),
            contentId: "c@x>\r\nBcc: z@evil.example",
          },
        ],
      }),
    );
    expect(raw).not.toMatch(/^Bcc:/im);
    const a = (await parseEmail(raw)).attachments[0]!;
    expect(a.contentType).toBe("application/octet-stream");
    expect(a.filename).not.toMatch(/[\r\n"]/);
    expect(a.contentId).toBeNull();
  });
});

describe("header injection", () => {
  const expectedReply = topHeaderNames(buildReplyEmail(reply()).raw).sort();
  const evil = [
    "x\r\nBcc: evil@attacker.example",
    "x\nBcc: evil@attacker.example",
    "x\rBcc: evil@attacker.example",
    "x\u2028Bcc: evil@attacker.example",
    'x" <evil@attacker.example>, "y',
    "x\u0000\u001b[31m",
  ];

  it("cannot add a header through the subject, a display name, threading ids or the date", async () => {
    for (const s of evil) {
      const built = [
        buildReplyEmail(reply({ subject: s })).raw,
        buildReplyEmail(reply({ from: { addr: "hello@acme.cncg.email", name: s } })).raw,
        buildReplyEmail(reply({ inReplyTo: `<a@b>${s}`, references: [`<a@b>${s}`] })).raw,
        buildForwardEmail(forward({ subject: s, from: { addr: "reply+t@acme.cncg.email", name: s } })).raw,
        buildForwardEmail(forward({ originalDate: s })).raw,
      ];
      for (const raw of built) {
        expect(raw).not.toMatch(/^Bcc:/im);
        const p = await parseEmail(raw);
        expect(p.headers.get("Bcc")).toBeNull();
        expect(p.to).toEqual([expect.not.stringContaining("attacker")]);
        expect(p.subject).not.toMatch(/[\p{Cc}\u2028]/u);
      }
      expect(topHeaderNames(buildReplyEmail(reply({ subject: s })).raw).sort()).toEqual(expectedReply);
    }
  });

  it("property: no subject or name can change the set of header fields", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), fc.string({ unit: "binary" }), (subject, name) => {
        const raw = buildReplyEmail(reply({ subject, from: { addr: "hello@acme.cncg.email", name } })).raw;
        expect(topHeaderNames(raw).sort()).toEqual(expectedReply);
      }),
      { numRuns: 300 },
    );
  });

  it("refuses every address that is not plain", () => {
    const bad = ["evil@x.example\r\nBcc: a@b.example", "Name <a@b.example>", "a@b", "", "a b@c.example"];
    for (const addr of bad) {
      expect(() => buildReplyEmail(reply({ to: addr }))).toThrow();
      expect(() => buildReplyEmail(reply({ from: { addr } }))).toThrow();
      expect(() => buildForwardEmail(forward({ replyTo: addr }))).toThrow();
      expect(() => buildForwardEmail(forward({ originalFrom: addr }))).toThrow();
      expect(() => buildForwardEmail(forward({ to: addr }))).toThrow();
    }
    expect(() => buildReplyEmail(reply({ messageIdDomain: "acme.cncg.email>\r\nBcc: x" }))).toThrow();
  });
});

describe("isAutomaticEmail", () => {
  const h = (o: Record<string, string>) => new Headers(o);
  const human = "jane@customer.example";

  it("recognises each RFC 3834 and common-practice signal", () => {
    const cases: [Record<string, string>, string, string][] = [
      [{ "Auto-Submitted": "auto-generated" }, human, "auto_submitted"],
      [{ "Auto-Submitted": "auto-replied; owner-email=x@y.example" }, human, "auto_submitted"],
      [{ Precedence: "bulk" }, human, "precedence"],
      [{ Precedence: "JUNK" }, human, "precedence"],
      [{ Precedence: "list" }, human, "precedence"],
      [{ "List-Id": "<news.shop.example>" }, human, "list"],
      [{ "List-Unsubscribe": "<mailto:u@shop.example>" }, human, "list"],
      [{ "List-Post": "<mailto:l@shop.example>" }, human, "list"],
      [{}, "", "null_sender"],
      [{}, "<>", "null_sender"],
      [{}, "MAILER-DAEMON@mx.example.net", "system_sender"],
      [{}, "postmaster@mx.example.net", "system_sender"],
      [{}, "No-Reply@shop.example", "system_sender"],
      [{}, "noreply+bounce-1@shop.example", "system_sender"],
      [{ From: "Shop <noreply@shop.example>" }, "bounces@shop.example", "system_sender"],
      [{ [LOOP_HEADER]: "1" }, human, "loop"],
      [{ "X-Autoreply": "yes" }, human, "autoreply"],
      [{ "X-Autorespond": "vacation" }, human, "autoreply"],
      [{ "X-Auto-Response-Suppress": "OOF, AutoReply" }, human, "suppress"],
      [{ "X-Auto-Response-Suppress": "All" }, human, "suppress"],
      [{ "Content-Type": 'multipart/report; report-type=delivery-status; boundary="b"' }, human, "dsn"],
    ];
    for (const [headers, envelope, reason] of cases) {
      expect(isAutomaticEmail(h(headers), envelope), JSON.stringify(headers) + envelope).toEqual({
        automatic: true,
        reason,
      });
    }
  });

  it("lets a person's mail through, including Auto-Submitted: no and harmless suppress values", () => {
    const people: Record<string, string>[] = [
      {},
      { "Auto-Submitted": "no" },
      { "Auto-Submitted": "No (human)" },
      { Precedence: "first-class" },
      { "X-Auto-Response-Suppress": "DR, RN, NRN" },
      { "Content-Type": "multipart/mixed; boundary=x" },
      { From: "Noreen <noreen@customer.example>" },
    ];
    for (const headers of people) {
      expect(isAutomaticEmail(h(headers), human), JSON.stringify(headers)).toEqual({
        automatic: false,
        reason: null,
      });
    }
    expect(isAutomaticEmail(h({}), "postmaster-jane@customer.example").automatic).toBe(false);
  });
});
