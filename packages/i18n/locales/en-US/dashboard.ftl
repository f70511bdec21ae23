## Dashboard shell: navigation, errors, common words.

nav-label = Main
nav-menu = Menu
nav-overview = Overview
nav-rules = Reply rules
nav-persona = Persona
nav-conversations = Conversations
nav-approvals = Approvals
nav-billing = Billing
nav-settings = Settings
skip-to-content = Skip to content
sign-out = Sign out
save = Save
saved = Saved.
form-has-errors = Please fix the fields marked below. Nothing was saved.

error-title = Something went wrong
error-title-not-found = Page not found
error-title-forbidden = Not allowed
error-not-found = There is nothing here, or it belongs to another account.
error-csrf = This form expired or did not come from this dashboard. Go back, reload the page and try again.
error-internal = Something went wrong on our side. Nothing you typed was lost from the page; please try again.
error-too-large = That form is too large.
error-bad-request = That form could not be read. Reload the page and try again.
error-back = Back to the dashboard

## Validation messages.

err-number = Enter a number.
err-integer = Enter a whole number.
err-save-failed = That could not be saved right now. Please try again.

## Sign-in.

signin-title = Sign in to Concierge
signin-lead = Run your business's WhatsApp, Instagram and email replies from one place.
signin-google = Continue with Google
signin-facebook = Continue with Facebook
signin-failed = Sign-in did not complete. It may have expired or been tampered with. Please start again.
signin-dev-title = Development sign-in
signin-dev-lead = Only on a local run. Pick any email; no password.
signin-dev-business = Business
signin-dev-demo = The demo business (Chai & Co.)
signin-dev-new = A new business
signin-dev-name = New business name
signin-dev-submit = Sign in
signin-dev-bad-email = Enter an email address like name@example.com.
field-email = Email
signup-business = My business
signup-business-of = { $name }'s business

## Conversation settings.

conv-title = Conversation settings
conv-lead = How long a conversation lasts, how long a person has after a handoff, and how much the AI remembers.
conv-idle-gap = Idle gap (minutes)
conv-idle-gap-hint = After this much silence a new conversation starts and the old history is deleted. 30 to 10080.
conv-cooldown = Handoff cooldown (minutes)
conv-cooldown-hint = After a customer asks for a person, automatic replies stay quiet this long. 5 to 1440.
conv-history = History (turns)
conv-history-hint = How many recent messages the AI sees. 1 to 50.
conv-wait = Default wait (seconds)
conv-wait-hint = How long to wait for more messages before replying, for accounts without their own setting. 0 to 30.
err-idle-gap-range = The idle gap is 30 to 10080 minutes.
err-cooldown-range = The cooldown is 5 to 1440 minutes.
err-history-range = History is 1 to 50 turns.
err-wait-range = The wait is 0 to 30 seconds.
err-idle-gap-vs-cooldown = The idle gap must be longer than the handoff cooldown.

# A settings form saved from a page older than the settings (another tab, another person saved since).
settings-err-stale = These settings were changed somewhere else after you opened this page, so nothing was saved. The saved values are shown now; make your change again and save.
