## The live inbox (/admin/inbox): open conversations, one conversation, the reply box and the controls.

nav-inbox = Inbox
inbox-title = Inbox
inbox-lead = Conversations whose customer wrote in the last 24 hours, newest first. This list refreshes by itself. Open one to read it, reply, take it over from the bot, hand it back or pause the bot.
inbox-filter-channel = Channel
inbox-filter-state = Who answers
inbox-filter-all = All
inbox-filter-apply = Show
inbox-empty = No customer has written in the last 24 hours.
inbox-empty-filtered = No conversation matches these filters.
inbox-col-customer = Customer
inbox-col-channel = Channel
inbox-col-state = Who answers
inbox-col-last = Last message
inbox-count = { $count ->
    [one] 1 message
   *[other] { $count } messages
}
inbox-pages = Pages
inbox-newer = Newer
inbox-older = Older
inbox-refresh = Refresh
inbox-state-bot = The bot
inbox-state-approval = Draft waiting for approval
inbox-state-handed-off = Waiting for a person
inbox-state-taken-over = A person
inbox-state-paused = Bot paused
inbox-paused-until = Bot paused, resumes { $when }
inbox-by = by { $who }
inbox-by-ai = the AI (it asked for a person)
inbox-by-rule = a hand-off rule
inbox-by-discord = a member in your Discord inbox
inbox-note-flagged = Flagged: looked like an attempt to manipulate the AI, so nothing answered it
inbox-note-no-inbox = For a person: waits here, as no Discord inbox is connected
inbox-note-outside-window = Arrived too late for an automatic reply
inbox-note-unsupported = A kind of message the bot cannot read
inbox-conversation-title = { $customer } on { $channel }
inbox-back = All conversations
inbox-messages = Messages
inbox-no-messages = The messages of this conversation are no longer kept (they are deleted when it goes quiet).
inbox-from-business = You
inbox-for-person = Mail your routing rules sent to a person (the bot does not answer it)
inbox-drafts = Draft waiting for approval
inbox-decide-draft = Approve, edit or reject it
inbox-reply-label = Your reply
inbox-reply-hint = Sent at once on the customer's channel. The channel accepts replies until { $when }.
inbox-reply-hint-human-agent = Sent at once, as a person's reply (Instagram accepts it until { $when }).
inbox-reply-hint-email = Sent at once by email, in the customer's thread.
inbox-send = Send reply
inbox-window-closed = { $channel } no longer accepts a reply in this conversation: too long has passed since the customer's last message. It reopens when the customer writes again.
inbox-controls = Who answers
inbox-take-over = Take over
inbox-hand-back = Hand back to the bot
inbox-pause-for = Pause the bot for
inbox-pause-minutes = { $minutes ->
    [15] 15 minutes
    [60] 1 hour
    [240] 4 hours
    [1440] 1 day
   *[other] { $minutes } minutes
}
inbox-pause = Pause
inbox-controls-hint = Take over: the bot stays silent for this customer until you hand back or the conversation goes quiet. Replying here takes over too.
inbox-done-sent = Reply sent.
inbox-done-take-over = You have taken over. The bot stays silent for this customer.
inbox-done-hand-back = Handed back. The bot answers this customer again.
inbox-done-pause = The bot is paused for this customer.
inbox-error-empty = Write a reply first.
inbox-error-long = A reply is at most 4096 characters.
inbox-error-outside-window = { $channel } no longer accepts a reply in this conversation: too long has passed since the customer's last message. Nothing was sent.
inbox-error-retry = The reply could not be sent just now. Nothing was sent; try again in a moment.
inbox-error-failed = The channel refused the reply. Nothing was sent.
inbox-error-suspended = Your account is suspended, so nothing can be sent.
inbox-error-disabled = This channel is switched off; switch it on to reply.
inbox-error-gone = This conversation is no longer available. Reload the page.
inbox-error-control = That did not work. Reload the page and try again.
