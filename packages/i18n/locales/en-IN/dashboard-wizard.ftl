## Onboarding wizard (/dashboard/wizard): the frame and steps 1–3.

wizard-steps-label = Setup steps
wizard-step-of = Step { $n } of { $total }
wizard-step-basics = Business basics
wizard-step-channels = Connect channels
wizard-step-notifications = Notifications
wizard-step-replies = Replies
wizard-step-launch = Launch
wizard-back = Back
wizard-leave = Finish later
wizard-continue = Save and continue

wizard-skip = Skip for now

## Step 1: business basics.

wizard-basics-lead = Tell us about your business. You can change any of this later in Settings.
wizard-name = Business name
wizard-name-hint = As your customers know it.
wizard-kind = Kind of business
wizard-kind-cafe = Café
wizard-kind-restaurant = Restaurant
wizard-kind-salon = Salon or spa
wizard-kind-clinic = Clinic
wizard-kind-shop = Shop
wizard-kind-services = Services
wizard-kind-other = Something else
wizard-locale = Language and formats
wizard-locale-en-IN = English (India)
wizard-locale-en-US = English (United States)
wizard-currency = Currency
wizard-currency-INR = Indian rupee (₹)
wizard-currency-USD = US dollar ($)
wizard-time-zone = Time zone
wizard-time-zone-hint = Used for opening hours, daily notices and the digest.
wizard-err-name = Give your business a name.
wizard-err-name-long = At most 80 characters.
wizard-err-kind = Choose the kind of business (or “Something else”).
wizard-err-locale = Choose a language from the list.
wizard-err-currency = Choose a currency from the list.
wizard-err-time-zone = Choose a time zone from the list, such as Asia/Kolkata.

## Step 2: channels.

wizard-channels-lead = Connect where your customers write to you. Each one is optional; you can add more later under Channels.
wizard-channels-none = Nothing is connected yet.
wizard-channels-connected = Connected channels
wizard-channel-whatsapp = WhatsApp
wizard-whatsapp-lead = Connect your WhatsApp Business number with Meta's sign-up, or enter its details by hand.
wizard-whatsapp-connected = WhatsApp number connected. Its messages now reach your inbox; the self-test result is shown below.
wizard-channel-instagram = Instagram
wizard-instagram-lead = Connect an Instagram professional account linked to a Facebook Page.
wizard-channel-email = Email

## Step 3: notifications.

wizard-notifications-lead = Choose where we tell you about replies waiting for approval and customers asking for a person.
wizard-discord-heading = Discord inbox
wizard-discord-lead = Get each item in a Discord channel your team can answer from.
wizard-discord-installed = Installed
wizard-discord-not-installed = Not installed
wizard-discord-done = The bot was added to your server. Choose below which channel gets the notices and the digest.
wizard-discord-channel = Send notices and the digest to
wizard-discord-channel-hint = A text channel of your server. If the bot has no inbox channel yet, this one becomes its inbox too.
wizard-discord-channel-none = Not to Discord
wizard-discord-lookup-failed = Discord could not be reached, so its channels cannot be listed just now. You can still save the rest and choose the channel later.
wizard-err-discord-channel = Choose one of your server's channels from the list.
wizard-err-discord-inbox = Your notification choices were saved, but the inbox channel could not be set just now. Save again in a moment.
wizard-email-heading = Email
wizard-email = Notification email
wizard-email-hint = Leave empty for no email. We send a link to confirm the address first.
wizard-email-verified = This address is confirmed.
wizard-email-pending = A confirmation link was sent to this address; open it, then save.
wizard-email-send-link = Send a verification link
wizard-email-link-sent = We sent a confirmation link to { $address }. Open it, then come back and save.
wizard-email-already-verified = { $address } is already confirmed.
wizard-cadence = Approval and handoff emails
wizard-cadence-instant = Instantly
wizard-cadence-15m = Batched every 15 minutes
wizard-cadence-hourly = Batched hourly
wizard-cadence-daily = Batched daily
wizard-digest = Summary digest
wizard-digest-off = Off
wizard-digest-daily = Daily
wizard-digest-weekly = Weekly
wizard-err-email = Give a plain email address, like name@example.com.
wizard-err-email-needed = Type the address to send the link to.
wizard-err-email-unverified = Confirm this address first: send the verification link and open it.
wizard-err-link-unsent = The confirmation mail could not be sent. Try again in a moment.
wizard-err-cadence = Choose how often these emails come.
wizard-err-digest = Choose how often the digest comes.
notify-err-no-target = A digest needs somewhere to go: a confirmed email address or a Discord channel. Add one, or turn the digest off.

## Development sign-in.

signin-dev-name-missing = Give the new business a name.
