## Overview: balance, approvals, persona status, channels and their health.

overview-title = Overview
overview-balance = Credit balance
overview-balance-unit = AI replies left. One credit is one AI reply; canned replies are free.
overview-balance-low = Low balance
overview-balance-low-text = You are at or below your warning level of { $threshold } credits.
overview-balance-empty = No credits left
overview-balance-empty-text = Your balance is zero. Canned replies use no credits.
overview-balance-link = Billing and credit history
overview-approvals = Pending approvals
overview-approvals-text = { $count ->
    [one] AI draft is waiting for your decision.
   *[other] AI drafts are waiting for your decision.
}
overview-approvals-link = Review approvals
overview-ai = AI replies
overview-ai-on = On
overview-ai-on-text = AI replies are on: rules that answer with AI reply in your persona's voice, one credit each.
overview-ai-paused = Paused
overview-ai-paused-text = AI replies are paused until the safety check approves your persona. Canned replies still send.
overview-ai-paused-link = See the persona
overview-ai-stopped = Stopped
overview-ai-stopped-text = AI replies are stopped: there are no credits left. Canned replies still send.
overview-ai-stopped-link = Buy credits
overview-ai-off = Off
overview-ai-off-text = AI replies are off: there is no persona yet. Canned replies still send.
overview-ai-off-link = Set up a persona
overview-ai-suspended = Suspended
overview-ai-suspended-text = The account is suspended: no replies of any kind are sent, AI or canned.
overview-setup-title = Finish setting up — step { $step } of { $total }
overview-setup-text = Your business is not live yet. Finish the steps to connect your channels, choose how you hear about messages and write your first replies; automatic replies start when you launch.
overview-setup-link = Continue setting up
overview-ai-idle-text = Automatic replies are switched off on every channel, or no channel has reply rules yet: nothing answers your customers for now.
overview-ai-idle-link = Reply rules
overview-launched-idle = You have launched, but automatic replies are switched off on every channel: switch them on in Reply rules.
overview-launched = You have launched: automatic replies are live on your connected channels.
overview-persona = Persona safety
overview-persona-approved = Approved
overview-persona-approved-text = Your persona passed the safety check.
overview-persona-pending = Checking
overview-persona-pending-text = The safety check is looking at your persona.
overview-persona-review = Under review
overview-persona-review-text = Your persona needs a closer look before it can be approved.
overview-persona-rejected = Rejected
overview-persona-rejected-text = Your persona did not pass the safety check. Edit it to try again.
overview-persona-none = Not set up
overview-persona-none-text = You have no persona yet.
overview-persona-link = Edit persona
overview-channels = Channels
overview-no-channels = No channels connected yet.
overview-channel-email = Email
overview-col-last-in = Last message received
overview-col-last-out = Last reply sent
overview-never = Never
overview-health-ok = Healthy
overview-health-warn = Needs attention
overview-health-danger = Not working
overview-health-disabled = This account is switched off: new messages are not accepted.
overview-health-last-send-failed = The reply to the latest message failed to send.
overview-health-no-inbox = Receiving mail. Mail for a person waits in your live inbox (no Discord inbox is connected), and your notifications say when it arrives.
overview-health-failed-sends = { $count ->
    [one] The reply to { $n } message failed to send in the last 7 days.
   *[other] Replies to { $n } messages failed to send in the last 7 days.
}
overview-health-no-messages = Waiting for the first message.
overview-health-waiting = Connected
overview-health-quiet = No messages received in the last 7 days.
overview-health-working = Receiving messages and replying.
overview-health-connected = Connected.

## Overview: the 30-day insights chart.

insights-title = Last 30 days
insights-lead = Counted from message records only (never their text). Days run midnight to midnight in your time zone (Settings).
insights-chart-title = Messages, replies and credits per day, last 30 days
insights-desc = From { $from } to { $to } (your days): { $received } { $receivedCount ->
    [one] message
   *[other] messages
} received (WhatsApp { $whatsapp }, Instagram { $instagram }, email { $email }); { $canned } canned { $cannedCount ->
    [one] reply
   *[other] replies
}, { $ai } AI { $aiCount ->
    [one] reply
   *[other] replies
} and { $handoffs } { $handoffsCount ->
    [one] handoff
   *[other] handoffs
} sent; { $human } { $humanCount ->
    [one] reply
   *[other] replies
} from a person; { $failed } { $failedCount ->
    [one] reply
   *[other] replies
} that could not be delivered; { $credits } { $creditsCount ->
    [one] credit
   *[other] credits
} used.
insights-panel-received = Messages received
insights-panel-replies = Replies sent
insights-panel-credits = Credits used
insights-axis-max = scale 0–{ $max }
insights-channel-email = Email
insights-canned = Canned replies
insights-ai = AI replies
insights-handoffs = Handoffs
insights-credits = Credits used
insights-stat-received = Messages received
insights-show-numbers = Show the numbers
insights-table-caption = Messages received per channel, replies sent by kind, replies not delivered, and credits used, per day in your time zone
insights-col-day = Day
insights-total = Total
insights-human = Replies by a person
insights-failed = Not delivered
insights-export = Download as CSV
insights-export-hint = One row per day in your time zone, the same numbers as above.
insights-rules-title = Rules that answered most
insights-rules-empty = No reply rule has answered in these 30 days.
insights-rules-caption = Replies given per rule, most first
insights-rules-col-rule = Rule
insights-rules-col-replies = Replies
insights-default-reply = Default reply (nothing else matched)
insights-default-share = The default reply answered { $share } of the replies your rules gave ({ $default } of { $total }).
insights-default-share-none = No replies from rules yet.
insights-handoff-title = Who asked for a person
insights-handoff-rule = A hand-off rule
insights-handoff-ai = The AI, while answering
insights-handoff-none = Nobody asked for a person in these 30 days.
insights-wait-title = Time to reply
insights-wait-lead = From a customer's first unanswered message to the first reply they got, from the bot or a person.
insights-wait-median = Half of the replies came within { $bucket }.
insights-wait-median-slow = Half of the replies took more than a day.
insights-wait-none = No replies to measure yet.
insights-wait-caption = Replies by how long the customer waited
insights-wait-col-wait = Waited
insights-wait-col-replies = Replies
insights-wait-lt1m = a minute
insights-wait-lt5m = 5 minutes
insights-wait-lt15m = 15 minutes
insights-wait-lt1h = an hour
insights-wait-lt4h = 4 hours
insights-wait-lt24h = a day
insights-wait-ge24h = more than a day
insights-wait-row-lt1m = Under a minute
insights-wait-row-lt5m = 1 to 5 minutes
insights-wait-row-lt15m = 5 to 15 minutes
insights-wait-row-lt1h = 15 minutes to an hour
insights-wait-row-lt4h = 1 to 4 hours
insights-wait-row-lt24h = 4 to 24 hours
insights-wait-row-ge24h = More than a day

## Billing.

billing-title = Billing
billing-balance = Credit balance
billing-balance-unit = AI replies left. One credit is one AI reply; canned replies are free.
billing-balance-low = Low balance
billing-balance-low-text = You are at or below your warning level of { $threshold } credits.
billing-balance-empty = No credits left
billing-balance-empty-text = At zero credits, AI replies stop; canned replies still send.
billing-threshold = Low-balance warning
billing-threshold-label = Warn me when my balance reaches (credits)
billing-threshold-hint = We send the warning to your notification channels once, when the balance drops to this number. 0 to 10,00,000; 0 turns it off.
billing-threshold-save = Save threshold
billing-err-threshold-range = Enter a whole number from 0 to 10,00,000.
billing-lots = Credit lots
billing-lots-lead = Each purchase or grant is a lot. Credits that expire soonest are used first; purchased credits never expire.
billing-no-lots = No credits yet.
billing-col-source = Source
billing-col-added = Added
billing-col-granted = Credits
billing-col-remaining = Remaining
billing-col-expiry = Expires
billing-source-purchase = Purchase
billing-source-grant = Grant
billing-never-expires = Never
billing-expired = Expired
billing-ledger = Credit history
billing-no-ledger = No credit movements yet.
billing-col-date = Date
billing-col-reason = What
billing-col-change = Change
billing-col-reference = Reference
billing-reason-purchase = Credits bought
billing-reason-grant = Credits granted
billing-reason-ai-reply = AI reply
billing-reason-restore = Credit given back
billing-ledger-pages = Credit history pages
billing-ledger-newest = Newest entries
billing-ledger-older = Older entries

## Settings.

settings-title = Settings
settings-business = Your business
settings-business-name = Business name
settings-business-kind-choose = Choose…
settings-business-save = Save business
settings-prefs = Language, currency and time zone
settings-prefs-lead = How the dashboard, your notifications and numbers are written, the currency for prices, and the time zone your days run in.
settings-locale = Language and number format
settings-locale-en-in = English (India): 1,00,000
settings-locale-en-us = English (United States): 100,000
settings-currency = Currency
settings-currency-inr = Indian rupee (₹, INR)
settings-currency-usd = US dollar ($, USD)
settings-prefs-save = Save preferences
settings-err-locale = Choose one of the listed languages.
settings-err-currency = Choose one of the listed currencies.
settings-time-zone = Time zone
settings-time-zone-hint = The summary digest covers your own days and weeks: it goes out after midnight in this time zone. Insights count new days in this zone too; days already counted keep the zone they were counted in.
settings-err-time-zone = Choose a time zone from the list, such as Asia/Kolkata.
settings-notify = Notifications
settings-notify-lead = Where and how often we tell you about handoffs (a customer wants a person), drafts waiting for your approval and a low credit balance, and the summary digest. Leave a field empty to stop that kind of notification.
settings-notify-discord = Discord channel id
settings-notify-discord-hint = The id of a channel in your Discord server where the Concierge bot can post: 17 to 20 digits.
settings-notify-email = Notification email
settings-notify-email-hint = An address like name@example.com. Confirm it first: send it a verification link and open the link.
settings-notify-email-verified = This address is confirmed.
settings-notify-email-pending = A confirmation link was sent to this address; open it, then save.
settings-notify-send-link = Send a verification link
settings-notify-link-sent = We sent a confirmation link to { $address }. Open it, then save your notifications.
settings-notify-already-verified = { $address } is already confirmed. Save to use it.
settings-notify-cadence = Approval and handoff emails
settings-notify-cadence-hint = Each one as it happens, or gathered into one email per period.
settings-cadence-instant = Instantly
settings-cadence-15m = Batched every 15 minutes
settings-cadence-hourly = Batched hourly
settings-cadence-daily = Batched daily
settings-notify-digest = Summary digest
settings-notify-digest-hint = Counts of messages in and out per channel, AI replies, handoffs, approvals waiting and your balance, in your time zone. Never any message text.
settings-digest-off = Off
settings-digest-daily = Daily
settings-digest-weekly = Weekly
settings-notify-save = Save notifications
settings-err-discord = A Discord channel id is 17 to 20 digits.
settings-err-discord-foreign = Choose a text channel of the Discord server you added Concierge to.
settings-err-discord-unavailable = Discord could not be reached to check this channel. Try again in a moment.
settings-err-email = Enter an email address like name@example.com.
settings-err-email-needed = Type the address to send the link to.
settings-err-email-unverified = This address is not confirmed yet. Send it a verification link, open the link, then save.
settings-err-link-unsent = The confirmation mail could not be sent. Try again in a moment.
settings-err-cadence = Choose how often these emails come.
settings-err-digest = Choose how often the digest comes.
settings-delete = Delete account
settings-delete-lead = This deletes your business, its channels, reply rules, persona, conversations, message records, credits and everyone's sign-in for it, at once and for good. Unused credits are lost. This cannot be undone.
settings-delete-confirm = Type your business name, { $name }, to confirm
settings-delete-confirm-hint = Exactly as shown, including capital letters.
settings-delete-submit = Delete account permanently
settings-err-confirm = That is not your business name exactly. Nothing was deleted.
settings-err-confirm-empty = Type your business name to confirm. Nothing was deleted.
settings-delete-failed = The account could not be deleted right now. Nothing you can see changed; please try again.
settings-deleted-title = Account deleted
settings-deleted-text = Your account and all its data were deleted.
settings-deleted-home = Go to the home page
overview-unanswered = Customers left unanswered
overview-unanswered-text = { $count ->
    [one] { $count } customer message in the last 7 days got no reply: every automatic attempt failed for a day. You were notified; reply from the Discord inbox or Conversations.
   *[other] { $count } customer messages in the last 7 days got no reply: every automatic attempt failed for a day. You were notified; reply from the Discord inbox or Conversations.
}
overview-persona-overdue = Check delayed
overview-persona-overdue-text = The safety check of your persona is taking far longer than it should. AI replies stay paused until it is done; we keep retrying and our team has been alerted. Canned replies still go out.
