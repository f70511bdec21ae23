## The public site: navigation, welcome, features, pricing, privacy, the demo's place, the 404.

site-nav-label = Site
site-nav-home = Home
site-nav-features = Features
site-nav-pricing = Pricing
site-nav-privacy = Privacy
site-nav-demo = Demo
site-nav-sign-in = Sign in
site-nav-dashboard = Dashboard
site-not-found = There is no page at this address. The link may be mistyped, or the page may have moved.
site-not-found-home = Go to the home page
site-open-dashboard = Open your dashboard
site-cta-sign-up = Sign up free
site-see-features = See every feature
site-see-pricing = See pricing
site-see-privacy = Read what we keep and what we never do.

## Welcome.

site-title = Every customer message, answered
site-description = Concierge answers the WhatsApp, Instagram and email messages your business receives: your own replies first, an AI in your voice within fixed limits, and a person whenever a customer needs one.
site-headline = Every customer message, answered.
site-lead = Concierge takes in the WhatsApp, Instagram and email messages your business receives, answers them with your own replies or an AI in your voice, and hands the rest to your team in one inbox.
site-how-link = How a message is handled
site-who-title = For small businesses with busy inboxes
site-who-text = Cafés, shops, salons, studios and other small teams whose customers ask the same questions every day, on several apps at once, often when nobody is free to answer. You decide what is answered automatically, and a person stays one tap away.
site-channels-title = Where your customers write
site-channel-whatsapp-name = WhatsApp
site-channel-whatsapp = Connect your business number. Customers write as they always do; replies come from your number.
site-channel-instagram-name = Instagram
site-channel-instagram = Direct messages to your Instagram business account, answered by the same rules.
site-channel-email-name = Email
site-channel-email = Addresses on your own email subdomain, each with routing rules: forward, relay to your team, reply automatically or refuse.
site-channel-discord-name = Discord, for your team
site-channel-discord = One inbox for your staff: every message that needs a person arrives there, with buttons to reply, approve a draft or drop it.
site-how-title = How a message is handled
site-how-rules-title = 1. Your rules first
site-how-rules = Each message is checked against your reply rules, top to bottom: keywords, or an intent you describe in a sentence. A matching rule sends your own text at once, at no cost.
site-how-ai-title = 2. Then the AI, in your voice, within fixed limits
site-how-ai = A rule can ask for an AI reply instead. It speaks in the persona you set up, placed between fixed instructions you cannot edit and customers cannot talk it out of: be brief, never invent prices, hours or addresses, never promise bookings or refunds, and hand over when unsure.
site-how-person-title = 3. A person, whenever one is needed
site-how-person = When a customer asks for a person, or a draft needs your approval, your team is told in Discord or by email and answers from Discord or the dashboard. Meanwhile the automatic replies stay quiet.
site-cta-title = Ready when your customers are
site-cta-text = Sign up with Google or Facebook, connect a channel and write your first rule. You can try every rule in a test panel before anything is sent.

## The live demo's place (the chat itself comes with its own work).

site-demo-title = Talk to it as your customers would
site-demo-text = In the live demo you write as a customer of a sample business, choose the persona that answers, and open "View prompt" to see exactly what the AI model was told.
site-demo-page-title = Live demo
site-demo-page-lead = See how Concierge answers before you connect anything.
site-demo-page-description = Try Concierge as a customer of a sample business, and see exactly what the AI model is told.

## Features.

site-features-title = Features
site-features-description = WhatsApp, Instagram and email in one place: reply rules, an AI persona within fixed limits, human handoff to Discord, approvals, insights and prepaid credits.
site-features-lead = Everything Concierge does for your business today, channel by channel.
site-features-channels = Channels
site-features-whatsapp = WhatsApp: connect your number through Meta's sign-up window, or by its phone number ID. A self-test sends a signed test message the same way your customers' messages travel and shows whether it arrived.
site-features-instagram = Instagram: connect business accounts with Facebook Login; direct messages are answered like any other message.
site-features-email = Email: subdomains of our mail domain for your business, where every address receives mail.
site-features-email-routing = Email routing rules on sender, recipient, subject, text and attachments: forward to an address you verified, relay to your Discord inbox, reply automatically, bounce with a reason, or drop. Replies to forwarded mail go back to the customer from your address.
site-features-rules = Reply rules
site-features-rules-order = Rules per account, checked from the top; the first match wins, and a default rule covers everything else. Several messages sent in a quick burst get one answer.
site-features-rules-match = Match by keywords, or by intent: describe what the customer wants in a sentence, and messages meaning the same thing match. Answer with your own text, free, or with an AI reply for one credit.
site-features-rules-test = A test panel shows which rule answers a message and what it would say, without sending anything.
site-features-ai = AI replies
site-features-ai-persona = Give the AI your business's voice: a guided builder (name, hours, goal, phrases, topics to avoid), a ready-made persona from our catalog, or your own prompt.
site-features-ai-safety = Every persona is checked by a safety classifier, and AI replies start only once it is approved; your rule replies keep going meanwhile.
site-features-ai-envelope = Your persona sits inside fixed instructions you cannot edit: answer briefly in the customer's language, never invent facts, never take actions such as bookings or refunds, give no medical, legal or financial advice, and never reveal its instructions. Messages that try to manipulate the AI get no AI reply.
site-features-ai-approvals = Drafts with money, promises or topics you avoid wait for your approval, and so does every draft of a rule you set to always ask. Approve, edit or reject them; a rejected or expired draft costs nothing.
site-features-people = People in the loop
site-features-handoff = When a customer asks for a person, or the conversation needs one, the AI says a person will follow, your team is told once, and automatic replies stay quiet while they take over.
site-features-discord = A Discord inbox for your staff: each message that needs a person, with Reply, Approve and Drop buttons. Only members with your staff role, or who manage the server, can act.
site-features-discord-commands = Slash commands in Discord for channel health, your balance, pending approvals, email subdomains and rules.
site-features-dashboard = Your dashboard
site-features-insights = An overview of messages received, rule and AI replies and handoffs per day, and the health of every channel.
site-features-billing = Prepaid credits for AI replies, bought through Razorpay, with a ledger, payments and printable receipts.
site-features-locales = English for India and the United States, with numbers and money in your format: ₹1,00,000 or $100,000.
site-features-privacy = We keep message metadata, never message text.

## Pricing.

site-pricing-title = Pricing
site-pricing-description = Pay only for AI replies, with prepaid credits that never expire. Rule replies are free, and there is no monthly fee.
site-pricing-lead = Pay only for AI replies. Replies from your own rules are free, and there is no monthly fee.
site-pricing-trial-title = { $count ->
    [one] Start with { $credits } free AI reply
   *[other] Start with { $credits } free AI replies
}
site-pricing-trial-text = { $count ->
    [one] Every new business gets { $credits } credit when it signs up, to use within { $days } days.
   *[other] Every new business gets { $credits } credits when it signs up, to use within { $days } days.
}
site-pricing-packs = Credit packs
site-pricing-in-inr = Prices in Indian rupees.
site-pricing-in-usd = Prices in US dollars.
site-pricing-no-packs = No credit packs are on sale in this currency right now.
site-pricing-pack-credits = { $count ->
    [one] { $credits } credit
   *[other] { $credits } credits
}
site-pricing-per-reply = { $price } per AI reply
site-pricing-credits-title = How credits work
site-pricing-credit-ai = One credit pays for one AI reply.
site-pricing-credit-rules = Replies with your own text, from your rules, are free.
site-pricing-credit-back = A credit comes back when an AI reply fails, or when you reject its draft or let it expire.
site-pricing-credit-never-expire = Credits you buy never expire.
site-pricing-credit-zero = At zero, AI replies stop quietly and your rule replies keep going; we warn you before the balance runs out.
site-pricing-subdomains = Email subdomains
site-pricing-subdomains-included = Every business gets email subdomains included.
site-pricing-subdomains-price = Each extra subdomain is { $price } a month, billed monthly until you cancel.
site-pricing-subdomains-none = Extra subdomains are not on sale in this currency yet.
site-pricing-paying = Paying
site-pricing-paying-text = You pay through Razorpay's secure checkout; we never see your card or bank details. Every payment has a printable receipt in your dashboard.

## Privacy.

site-privacy-title = Privacy
site-privacy-description = What Concierge keeps about your customers' messages, what it never keeps, and how to delete everything.
site-privacy-lead = Concierge handles your customers' messages. This page says exactly what we keep, what we never keep, and how you delete it.
site-privacy-kept = What we keep
site-privacy-kept-metadata = For each message, its metadata: the channel, whether it came in or went out, the sender and the recipient (a phone number, an Instagram id or an email address), the time, what was done with it (a rule's reply, an AI reply, a handoff) and the conversation it belongs to. Your dashboard's conversations and insights are made from it.
site-privacy-kept-account = Your account: the business's name, the name and email you sign in with, your settings, reply rules, persona and connected channels.
site-privacy-kept-tokens = The access an Instagram connection needs, encrypted.
site-privacy-kept-billing = Your credits, orders and payments, and the billing details you enter for receipts.
site-privacy-never = What we never keep
site-privacy-never-text = Message text: what customers write, email subjects and bodies, and AI drafts are never written to our database, our key-value store, our queues or our logs.
site-privacy-never-cards = Card and bank details: you pay on Razorpay's checkout, and they stay with Razorpay.
site-privacy-never-tracking = Tracking: there are no advertising or analytics scripts on our pages, and our cookies serve only to sign you in and keep you signed in.
site-privacy-text = Where message text rests, briefly
site-privacy-text-lead = Only in the storage of the conversation it belongs to, encrypted with a key of your business's own, and only for as long as it is needed:
site-privacy-text-pending = a new message, until its reply is decided (a few seconds);
site-privacy-text-history = the recent history the AI sees, until the conversation goes idle (6 hours by default; you can change it);
site-privacy-text-drafts = a draft waiting for approval, until it is approved, rejected or expires after 24 hours.
site-privacy-shared = Where message text goes
site-privacy-shared-lead = Text goes only where answering it needs it:
site-privacy-shared-ai = to the AI model, when one of your rules asks for an AI reply (the message, the recent conversation and your persona);
site-privacy-shared-discord = to your Discord inbox, for messages your team handles;
site-privacy-shared-forward = to the addresses you verified, for email you forward;
site-privacy-shared-channels = back to the customer, on the channel they wrote on.
site-privacy-how-long = How long we keep it
site-privacy-how-long-metadata = Message metadata and your account's data are kept while your account is open, and deleted with it.
site-privacy-how-long-sessions = A sign-in lasts at most 14 days, or until you sign out.
site-privacy-how-long-demo = The live demo: your chat stays in your own page, sealed (encrypted, and expiring within an hour), and nothing of it is stored. We keep only counts of demo messages, under a keyed pseudonym of your network address (never the address itself); the counts per visitor are deleted within the hour, the demo's total within the day.
site-privacy-deletion = Deleting everything
site-privacy-deletion-account = Delete your account in the dashboard's settings. Your business's key is destroyed first, so any message text sealed with it can never be read again, even from backups; then every record of the business is removed, and you see when it is done.
site-privacy-deletion-facebook = If you signed in with Facebook or connected Instagram, you can also ask for deletion from your Facebook settings; the Instagram accounts you connected (with their conversations) and your Facebook sign-in are deleted, the business and its other channels are not, and a status page shows the result.
