## Channels: connected accounts, WhatsApp Embedded Signup, the manual fallback, the self-test.

nav-channels = Channels
ch-title = Channels
ch-lead = The accounts your customers write to. Each WhatsApp number is tested right after it is connected: a signed test message travels the same way your customers' messages do.
ch-connect-whatsapp = Connect a WhatsApp number
ch-connect-manual = Enter a phone number ID instead
ch-empty = No accounts are connected yet.
ch-caption = Connected accounts
ch-col-account = Account
ch-col-test = Self-test
ch-col-last = Last customer message
ch-last-none = None yet
ch-col-actions = Actions
ch-connected = Connected. The self-test result is shown below.
ch-already-connected = This number was already connected to your business; the self-test ran again.
ch-deleted = The account was removed. Messages to it are no longer answered.
ch-tested = The self-test ran again; the result is shown below.
ch-selftest-ok = Round trip completed
ch-selftest-ok-at = at { $time }
ch-selftest-failed = Not completed
ch-selftest-pending = Running…
ch-selftest-none = Not run yet
ch-selftest-rerun = Run the self-test again
ch-selftest-reason-signature_refused = Our webhook refused the test message's signature: the app secret of the dashboard and of the webhook receiver differ.
ch-selftest-reason-not_received = The webhook receiver accepted the test message, but it did not reach this number's inbox (the number is unknown to the pipeline).
ch-selftest-reason-webhook_error = The webhook receiver answered with an error; messages would be retried by Meta but are not being accepted now.
ch-selftest-reason-timeout = The test message got no answer within 10 seconds.
ch-selftest-reason-unreachable = The webhook receiver could not be reached.
ch-delete = Remove
ch-delete-confirm = Remove { $name }? Messages to it will no longer be answered, and its reply rules are deleted. You can connect it again later.
ch-delete-submit = Remove this account
ch-delete-whatsapp = The number is also released at Meta: it leaves the WhatsApp Cloud API and stops reaching Concierge. To connect it again, you need a code sent to the number.
# An email address on the channels page: it is deleted on the email page, where its name is held for 30 days.
ch-manage-email = Manage on the email page

wa-connect-title = Connect a WhatsApp number
wa-connect-lead = Sign in with Facebook in a pop-up window, choose or create your WhatsApp Business account and verify your number. Meta then hands the number to Concierge.
wa-connect-start = Connect with Facebook
wa-connect-waiting = Finish the steps in the Facebook window…
wa-connect-saving = Connecting your number…
wa-connect-cancelled = The sign-up was closed before it finished. Nothing was connected.
wa-connect-error = Facebook reported a problem during sign-up. Nothing was connected; try again or use the manual form.
wa-connect-noscript = Connecting through Facebook needs JavaScript. Without it, enter your number's phone number ID in the manual form.
wa-connect-fallback = Button greyed out, or sign-up blocked? Enter the phone number ID by hand.
wa-connect-unconfigured = Connecting through Facebook is not set up on this installation. Enter your number's phone number ID in the manual form.

wa-manual-title = Enter a phone number ID
wa-manual-lead = Use this when your number is already in our WhatsApp Business account. We look the number up at Meta, then Meta sends a code to the number itself: typing it here proves the number is yours.
wa-manual-id = Phone number ID
wa-manual-id-hint = The number's ID, not the phone number itself: digits only, shown under the number in WhatsApp Manager and in the API setup of the Meta app.
wa-manual-submit = Connect this number
wa-manual-method = How should Meta send the code?
wa-manual-method-sms = Text message (SMS)
wa-manual-method-voice = Voice call
wa-manual-send = Send a code to this number
wa-manual-code-lead = Meta is sending a 6-digit code to { $number }. Type it here within 10 minutes to connect the number.
wa-manual-code = Code from Meta
wa-manual-code-hint = 6 digits, sent by text message or voice call to the number you are connecting.
wa-manual-resend = Send a new code
err-wa-code-method = Choose a text message or a voice call.
err-wa-code-digits = Enter the 6-digit code Meta sent to the number.
err-wa-code-wrong = That is not the code Meta sent to this number. Nothing was connected; check it and try again.
err-wa-code-attempts = Too many wrong codes. Send a new code and try again; nothing was connected.
err-wa-code-none = No code is waiting for this number (a code lasts 10 minutes). Send a new code.
err-wa-code-too-soon = A code was sent less than a minute ago. Wait a minute before asking for another.
err-wa-code-limit = Too many codes were asked for this number today. Try again tomorrow.
err-wa-code-busy = A code for this number was sent for another account and can still be entered. Try again in 10 minutes, or use Connect a WhatsApp number instead.
err-wa-code-not-sent = Meta would not send a code to this number right now. Check the number in WhatsApp Manager and try again.

err-wa-id-required = Enter the phone number ID.
err-wa-id-digits = A phone number ID is 5 to 32 digits, nothing else.
err-wa-unknown-number = Meta knows no WhatsApp number with this ID that we may use. Check the ID in WhatsApp Manager. Nothing was saved.
err-wa-taken = This WhatsApp number is already connected to another business. A number can belong to one business only; nothing was changed.
err-wa-graph-down = Meta could not be asked about this number right now. Nothing was saved; try again in a minute.
err-wa-es-incomplete = The sign-up did not return a code and a phone number. Start again.
err-wa-es-code = Meta did not accept the sign-up code (codes expire after 30 seconds and work once). Nothing was connected; start again.

## Embedded Signup: registering the number for Cloud API.

wa-connect-pin = Two-step verification PIN
wa-connect-pin-hint = 6 digits. If this number already has a WhatsApp two-step verification PIN, enter that one; otherwise choose one and keep it safe.
err-wa-pin = Enter the number's two-step verification PIN: exactly 6 digits.
err-wa-pin-mismatch = This number already has a different two-step verification PIN. Enter that PIN, or turn two-step verification off in WhatsApp Manager, and connect again.
err-wa-subscribe-failed = Meta refused to send this account's messages to Concierge, so nothing was connected. Please try again in a minute.
err-wa-register-failed = Meta refused to register this number for the WhatsApp Cloud API, so nothing was connected. Check the number in WhatsApp Manager and try again.
