## The operator panel (/manage): the platform team's pages behind Cloudflare Access.

manage-brand = Concierge operators
manage-signed-in-as = Signed in as { $email }
manage-nav-label = Operator panel
manage-nav-tenants = Tenants
manage-nav-pricing = Pricing
manage-nav-archetypes = Archetypes
manage-nav-demo = Demo
manage-nav-health = Health
manage-nav-audit = Audit log
manage-pages = Pages
manage-first-page = First page
manage-next-page = Next page
manage-newest = Newest
manage-older = Older
manage-never = Never
manage-channel-email = Email
manage-refused-unknown = The change was refused and nothing was saved. Please try again.
manage-refused-invalid-operator = The change was refused: your Cloudflare Access sign-in has no usable email address. Nothing was saved. Sign in again with your work email.
manage-refused-invalid-input = The change was refused: a value is outside what the platform accepts. Nothing was saved. Check the form and try again.
manage-refused-not-found = This no longer exists; another operator may have deleted it. Nothing was saved. Reload the page.
manage-refused-invalid-expiry = The expiry must be a day after today. Nothing was granted.
manage-refused-confirm-mismatch = The name typed is not the tenant's name exactly. Nothing was deleted.
manage-refused-tenant-suspended = The tenant is suspended, so this cannot be done now. Nothing was changed.
manage-refused-delete-incomplete = The deletion did not finish: some of the tenant's data may remain. Try the deletion again; the audit log keeps the record.
manage-refused-pack-exists = A pack with this id exists already. Nothing was saved.
manage-refused-currency-fixed = A pack's currency cannot be changed. Nothing was saved.
manage-refused-internal = Something went wrong on our side and nothing was saved. Please try again in a minute.

## Tenants: search.

manage-tenants-title = Tenants
manage-tenants-search = Find a tenant
manage-tenants-q = Search
manage-tenants-q-hint = A business name, a user's email, a tenant id (t_…), a phone number or an email subdomain.
manage-tenants-status = Status
manage-tenants-status-all = Any status
manage-tenants-status-active = Active
manage-tenants-status-suspended = Suspended
manage-tenants-search-submit = Search
manage-tenants-none = No tenant matches.
manage-tenants-col-name = Tenant
manage-tenants-col-status = Status
manage-tenants-col-balance = Balance (credits)
manage-tenants-col-activity = Last activity
manage-tenants-done-deleted = The tenant and all of its data were deleted. The audit log keeps the record.

## One tenant.

manage-tenant-back = ← All tenants
manage-tenant-summary = Summary
manage-tenant-id = Tenant id
manage-tenant-status = Status
manage-tenant-suspended-reason = Suspended because
manage-tenant-suspended-at = Suspended on
manage-tenant-created = Created
manage-tenant-locale = Language and currency
manage-tenant-balance = Balance (credits)
manage-tenant-quota = Free email subdomains
manage-tenant-channels = Channels
manage-tenant-no-channels = No channel is connected.
manage-tenant-col-channel = Channel
manage-tenant-col-health = Health
manage-tenant-col-last-in = Last message in
manage-tenant-col-last-out = Last reply out
manage-tenant-users = Users
manage-tenant-no-users = No users.
manage-tenant-no-email = No email address
manage-tenant-col-user = User
manage-tenant-col-provider = Signs in with
manage-provider-google = Google
manage-provider-facebook = Facebook
manage-provider-dev = Development sign-in
manage-tenant-col-joined = Joined
manage-tenant-credits = Credits
manage-tenant-lots = Credit lots
manage-tenant-no-lots = No credits were ever added.
manage-tenant-col-source = Source
manage-tenant-col-added = Added
manage-tenant-col-granted = Added
manage-tenant-col-remaining = Remaining
manage-tenant-col-expiry = Expires
manage-tenant-ledger = Ledger
manage-tenant-no-ledger = The ledger is empty.
manage-tenant-col-date = Date
manage-tenant-col-reason = Reason
manage-tenant-col-change = Change
manage-tenant-col-reference = Reference
manage-tenant-orders = Orders
manage-tenant-no-orders = No orders.
manage-tenant-col-order = Order
manage-tenant-col-credits = Credits
manage-tenant-col-amount = Amount
manage-tenant-col-order-status = Status
manage-order-status-created = Awaiting payment
manage-order-status-paid = Paid
manage-order-status-failed = Failed
manage-tenant-usage = Last 30 days
manage-tenant-usage-received = Messages received
manage-tenant-usage-canned = Rule replies
manage-tenant-usage-ai = AI replies
manage-tenant-usage-handoffs = Handed to a person
manage-tenant-usage-credits = Credits used
manage-tenant-actions = Actions
manage-tenant-reason = Reason
manage-tenant-suspend = Suspend
manage-tenant-suspend-lead = While suspended, messages to this tenant are still received and logged, but nothing is answered: no rule, AI, email or human reply is sent. The tenant's dashboard shows the reason.
manage-tenant-suspend-reason-hint = The tenant reads this on every page of their dashboard.
manage-tenant-suspend-submit = Suspend tenant
manage-tenant-reactivate = Reactivate
manage-tenant-reactivate-lead = Replies resume with the next message. Messages that arrived while suspended stay unanswered.
manage-tenant-reactivate-submit = Reactivate tenant
manage-tenant-grant = Grant credits
manage-tenant-grant-lead = Granted credits with an expiry are spent before any others, and lapse at the start of the expiry day (UTC).
manage-tenant-grant-credits = Credits
manage-tenant-grant-expires = Expires on (optional)
manage-tenant-grant-expires-hint = Leave empty for credits that never expire. Format YYYY-MM-DD, UTC.
manage-tenant-grant-reason-hint = Recorded in the audit log, for the team.
manage-tenant-grant-submit = Grant credits
manage-tenant-quota-title = Email subdomain quota
manage-tenant-quota-lead = How many email subdomains this tenant has without the paid plan.
manage-tenant-quota-submit = Save quota
manage-tenant-rotate = Rotate data key
manage-tenant-rotate-lead = New text is sealed with a new key version; text sealed before stays readable until it expires.
manage-tenant-rotate-submit = Rotate data key
manage-tenant-delete = Delete tenant
manage-tenant-delete-lead = Deletes the tenant and everything in it, exactly as the tenant's own deletion does: channels, rules, conversations, credits, orders, users and sessions. This cannot be undone. The audit log keeps the tenant id.
manage-tenant-delete-confirm = Type the tenant's name, { $name }, to confirm
manage-tenant-delete-confirm-hint = Exactly as written, including capitals and punctuation.
manage-tenant-delete-submit = Delete tenant permanently
manage-tenant-done-suspended = The tenant is suspended.
manage-tenant-done-reactivated = The tenant is active again.
manage-tenant-done-granted = The credits were granted.
manage-tenant-done-granted-already = These credits were granted already (the same form was sent twice), so nothing changed.
manage-tenant-done-quota = The email subdomain quota was saved.
manage-tenant-done-rotated = The tenant's data key was rotated.

## Pricing.

manage-pricing-title = Pricing
manage-pricing-new-orders-only = Changes apply to new orders only: orders already made keep their credits and amount.
manage-pricing-currency = Prices in { $currency }
manage-pricing-packs = Credit packs
manage-pricing-no-packs = No packs in this currency yet.
manage-pricing-inactive = Inactive
manage-pricing-pack-now = Now { $credits } credits for { $price }.
manage-pricing-add-pack = Add a pack
manage-pricing-pack-id = Pack id
manage-pricing-pack-id-hint = Lower-case letters, digits and hyphens, e.g. inr-500. It cannot be changed later.
manage-pricing-credits = Credits
manage-pricing-amount = Price in { $currency }
manage-pricing-sort = Position
manage-pricing-active = Offered to tenants
manage-pricing-save-pack = Save pack
manage-pricing-add-pack-submit = Add pack
manage-pricing-plan = Extra email subdomain, per month
manage-pricing-plan-now = Now { $price } a month.
manage-pricing-plan-none = No price set: the plan cannot be bought in this currency.
manage-pricing-plan-amount = Monthly price in { $currency }
manage-pricing-plan-save = Save price
manage-pricing-trial = Trial credits
manage-pricing-trial-lead = What every new tenant gets once, when it signs up. 0 credits: no trial.
manage-pricing-trial-credits = Credits
manage-pricing-trial-days = Days until they expire
manage-pricing-trial-save = Save trial
manage-pricing-saved-pack = The pack was saved. New orders use it.
manage-pricing-saved-plan = The subdomain plan's price was saved. New subscriptions use it.
manage-pricing-saved-trial = The trial was saved. Tenants who sign up from now on get it.

## Archetypes.

manage-arch-title = Persona archetypes
manage-arch-lead = Tenants pick from these on their persona page. Only active archetypes whose current version the safety check approved are shown to tenants and the public demo.
manage-arch-none = The catalog is empty.
manage-arch-col-name = Archetype
manage-arch-col-status = Status
manage-arch-col-version = Version
manage-arch-col-safety = Safety check
manage-arch-col-tenants = Tenants see it
manage-arch-col-actions = Actions
manage-arch-active = Active
manage-arch-retired-badge = Retired
manage-arch-visible = Yes
manage-arch-hidden = No
manage-arch-safety-approved = Approved
manage-arch-safety-pending = Being checked
manage-arch-safety-review = Needs review
manage-arch-safety-rejected = Rejected
manage-arch-retire = Retire
manage-arch-new = New archetype
manage-arch-create = Create archetype
manage-arch-save = Save new version
manage-arch-back = ← All archetypes
manage-arch-edit-title = Edit { $name }
manage-arch-updated = Last saved
manage-arch-review-note = Every save is a new version that stays hidden from tenants until the safety check approves it.
manage-arch-name = Name
manage-arch-description = Description
manage-arch-description-hint = One sentence tenants read when choosing.
manage-arch-prompt = Prompt
manage-arch-prompt-hint = The instructions the AI gets. At most 2,000 characters.
manage-arch-sort = Position
manage-arch-sort-hint = Lower numbers come first.
manage-arch-created = The archetype was created. Tenants see it once the safety check approves it.
manage-arch-saved = The new version was saved. Tenants see it once the safety check approves it.
manage-arch-retired = The archetype was retired. Tenants no longer see it.

## Demo settings.

manage-demo-title = Public demo
manage-demo-lead = The sample business the demo on the public site plays, and how much of it visitors may use.
manage-demo-business = Sample business
manage-demo-business-cafe = Café
manage-demo-business-salon = Salon
manage-demo-business-bike-shop = Bike shop
manage-demo-per-visitor = Messages per visitor per hour
manage-demo-per-visitor-hint = From 1 to 1,000.
manage-demo-total = Messages per day, all visitors together
manage-demo-total-hint = From 1 to 1,000,000. Past it the demo pauses until the next day (UTC).
manage-demo-max-chars = Longest message, in characters
manage-demo-max-chars-hint = From 20 to 2,000.
manage-demo-max-turns = Turns per conversation
manage-demo-max-turns-hint = From 1 to 20.
manage-demo-save = Save demo settings
manage-demo-saved = The demo settings were saved.
manage-demo-saved-by = Last saved by { $email } on { $at }.

## Platform health.

manage-health-title = Platform health
manage-health-pipeline-down = The pipeline did not answer: its configuration, the Discord bot, the safety queue, the scheduled jobs and the traffic are not shown.
manage-health-dashboard = Dashboard configuration
manage-health-config-ok = Everything required is set
manage-health-config-missing = { $count ->
    [one] { $count } required setting missing
   *[other] { $count } required settings missing
}
manage-health-col-name = Name
manage-health-col-kind = Needed
manage-health-col-state = State
manage-health-required = Required
manage-health-optional = Optional
manage-health-set = Set
manage-health-not-set = Not set
manage-health-workers = Workers' configuration
manage-health-col-worker = Worker
manage-health-col-missing = Missing
manage-health-none = None
manage-health-discord = Discord bot
manage-health-discord-ok = Answering
manage-health-discord-down = Not answering
manage-health-safety = Safety queue
manage-health-safety-pending = Waiting for a verdict
manage-health-safety-review = Dead letters (need review)
manage-health-safety-hint = Personas and archetypes. Dead letters failed every retry and wait for a person.
manage-health-safety-overdue = Overdue (waiting over 15 minutes)
manage-health-safety-overdue-alert = { $count ->
    [one] { $count } verdict is overdue: that tenant's AI replies stay paused until it is recorded. The 15-minute job queues it again; if it stays, look for safety.classify_failed in the logs.
   *[other] { $count } verdicts are overdue: those tenants' AI replies stay paused until they are recorded. The 15-minute job queues them again; if they stay, look for safety.classify_failed in the logs.
}
manage-health-stuck = Stuck conversations
manage-health-stuck-none = None: every conversation's scheduled work runs.
manage-health-stuck-lead = { $count ->
    [one] { $count } conversation stopped retrying its scheduled work after it failed again and again (alarm.given_up in the logs). Its customer's messages are kept; the next message tries again.
   *[other] { $count } conversations stopped retrying their scheduled work after it failed again and again (alarm.given_up in the logs). Their customers' messages are kept; the next message tries again.
}
manage-health-col-tenant = Tenant
manage-health-col-account = Channel account
manage-health-col-attempts = Attempts
manage-health-col-failed-at = Gave up at
manage-health-crons = Scheduled jobs
manage-health-crons-none = No scheduled job has run yet.
manage-health-col-cron = Job
manage-health-col-last-run = Last run
manage-health-cron-ok = On time
manage-health-cron-late = Late
manage-health-cron-failed = Last run failed
manage-health-cron-never = Never run
manage-health-traffic = Inbound traffic, last hour
manage-health-traffic-lead = { $count ->
    [one] { $total } message received in the last hour.
   *[other] { $total } messages received in the last hour.
}
manage-health-col-channel = Channel
manage-health-col-messages = Messages
manage-health-at = As of { $at }.

## Audit log.

manage-audit-title = Audit log
manage-audit-filters = Filter the audit log
manage-audit-operator = Operator's email
manage-audit-action = Action
manage-audit-any-action = Any action
manage-audit-tenant = Tenant id
manage-audit-from = From (UTC)
manage-audit-to = To (UTC)
manage-audit-apply = Filter
manage-audit-clear = Clear filters
manage-audit-none = No entries match.
manage-audit-shown = { $count ->
    [one] { $shown } entry, newest first.
   *[other] { $shown } entries, newest first.
}
manage-audit-col-at = When
manage-audit-col-operator = Operator
manage-audit-col-action = Action
manage-audit-col-target = Target
manage-audit-col-summary = What changed
manage-audit-action-tenant-suspend = Suspended a tenant
manage-audit-action-tenant-reactivate = Reactivated a tenant
manage-audit-action-tenant-grant-credits = Granted credits
manage-audit-action-tenant-set-quota = Set the subdomain quota
manage-audit-action-tenant-delete = Deleted a tenant
manage-audit-action-tenant-rotate-key = Rotated a data key
manage-audit-action-pricing-save-pack = Saved a credit pack
manage-audit-action-pricing-subdomain-plan = Priced the subdomain plan
manage-audit-action-pricing-trial = Changed the trial
manage-audit-action-archetype-save = Saved an archetype
manage-audit-action-archetype-retire = Retired an archetype
manage-audit-action-demo-save = Saved the demo settings
manage-audit-key-status = Status
manage-audit-key-reason = Reason
manage-audit-key-credits = Credits
manage-audit-key-expires-at = Expires
manage-audit-key-quota = Free email subdomains
manage-audit-key-previous-quota = Free email subdomains before
manage-audit-key-version = Version
manage-audit-key-confirmed = Name confirmed
manage-audit-key-created = New
manage-audit-key-currency = Currency
manage-audit-key-amount = Price
manage-audit-key-active = Offered to tenants
manage-audit-key-sort = Position
manage-audit-key-previous-credits = Credits before
manage-audit-key-previous-amount = Price before
manage-audit-key-previous-active = Offered before
manage-audit-key-days = Days until they expire
manage-audit-key-previous-days = Days before
manage-audit-key-hash = Text fingerprint
manage-audit-key-restored = Brought back from retired
manage-audit-key-business = Sample business
manage-audit-status-active = Active
manage-audit-status-suspended = Suspended
manage-audit-status-retired = Retired
manage-audit-value-yes = Yes
manage-audit-value-no = No
manage-audit-value-none = None

## Field errors.

manage-err-reason = Give a reason, at most 500 characters.
manage-err-grant-credits = Enter whole credits from 1 to 1,000,000.
manage-err-expiry = Choose a day after today, or leave it empty.
manage-err-request = This form expired. Reload the page and try again.
manage-err-quota = Enter a whole number from 0 to 1,000.
manage-err-confirm-empty = Type the tenant's name to confirm.
manage-err-confirm = That is not the tenant's name exactly. Nothing was deleted.
manage-err-pack-id = Use 1 to 40 lower-case letters, digits and hyphens, starting with a letter or digit.
manage-err-pack-exists = A pack with this id exists already. Edit it above, or choose another id.
manage-err-pack-missing = This pack no longer exists in this currency. Reload the page.
manage-err-pack-currency-fixed = A pack stays in the currency it was created in. Add a new pack in the other currency instead.
manage-err-pack-credits = Enter whole credits from 1 to 10,000,000.
manage-err-currency = Choose INR or USD.
manage-err-amount = Enter an amount of at least 1, with at most two decimals (e.g. 499 or 499.50).
manage-err-sort = Enter a whole number from 0 to 1,000.
manage-err-trial-credits = Enter whole credits from 0 to 100,000.
manage-err-trial-days = Enter a whole number of days from 1 to 3,650.
manage-err-arch-name = Give it a name of at most 60 characters.
manage-err-arch-description = Describe it in at most 200 characters.
manage-err-arch-prompt = Write the prompt, at most 2,000 characters.
manage-err-demo-business = Choose one of the sample businesses.
manage-err-demo-per-visitor = Enter a whole number from 1 to 1,000.
manage-err-demo-total = Enter a whole number from 1 to 1,000,000.
manage-err-demo-max-chars = Enter a whole number from 20 to 2,000.
manage-err-demo-max-turns = Enter a whole number from 1 to 20.
manage-err-date = Enter a date as YYYY-MM-DD.

## The tenant dashboard while the platform team has suspended the account.

suspended-title = This account is suspended
suspended-reason = The Concierge team gave this reason: { $reason }
suspended-effect = Messages from your customers are still received and kept, but nothing is answered until the account is reactivated. Contact the Concierge team to resolve it.

## Platform health: every Worker's configuration and the Discord bot check, in words.

manage-health-unreachable = Unreachable
manage-health-unreachable-detail = Did not answer over its service binding: not deployed, failing, or the binding is missing.
manage-health-optional-not-set = Optional, not set:
manage-health-discord-signed-in = Signed in as { $username }.
manage-health-discord-token-not-set = The pipeline has no DISCORD_BOT_TOKEN.
manage-health-discord-refused = Discord refused the bot's token (HTTP { $status }).
manage-health-discord-unreachable = Discord could not be reached.
manage-health-discord-unexpected = Discord answered something other than the bot's account.

## The tenant page: a deletion that has not finished, and effects at providers (issue 17 item 14).

manage-tenant-deleting = Deletion started
manage-tenant-deleting-note = Not finished yet: the tenant answers no one, and the 15-minute cron resumes the deletion (deleting again does too).
manage-tenant-effects = Effects at Meta, Discord and Cloudflare
manage-tenant-effects-none = None recorded for this tenant.
manage-tenant-col-effect = Effect
manage-tenant-col-state = State
manage-tenant-col-attempts = Attempts
manage-tenant-col-next = Next attempt
manage-tenant-col-error = Last error
manage-effect-whatsapp-release = Release a WhatsApp number at Meta
manage-effect-instagram-unsubscribe = Unsubscribe an Instagram page at Meta
manage-effect-discord-leave = Bot leaves the Discord server
manage-effect-email-routes-remove = Remove a subdomain's Cloudflare email rule
manage-effect-pending = Pending (retried by the cron)
manage-effect-done = Done
manage-effect-failed = Gave up
manage-effects-summary = Effects at Meta, Discord and Cloudflare (disconnects and deletions, deleted tenants included): { $pending } pending, retried by the 15-minute cron; { $failed } gave up and need a look.
manage-health-effects = Effects at Meta, Discord and Cloudflare
manage-health-effects-pending = Pending (retried every 15 minutes)
manage-health-effects-failed = Gave up
manage-health-effects-failed-alert = { $count ->
    [one] { $count } effect gave up after its retries: see the tenant's page, or the provider.
   *[other] { $count } effects gave up after their retries: see the tenants' pages, or the providers.
}
manage-health-effects-hint = Numbers released, Instagram pages unsubscribed, the bot leaving servers and email rules removed when tenants disconnect or are deleted (deleted tenants included).
