## Onboarding wizard, steps 4 (replies) and 5 (launch), and the starter reply rules it proposes.

wizard-replies-title = How your assistant replies
wizard-replies-lead = Tell your assistant how to talk and what to aim for, and pick the ready-made replies for the questions customers ask most. You can change all of it later.

wizard-replies-persona-legend = Your assistant
wizard-replies-persona-lead = It speaks for your business by name and answers as the kind of business you chose in step 1.
wizard-replies-voice = Voice
wizard-replies-archetype-hint = How your assistant talks. Each of these has passed our safety check; you can change it later on the Persona page.
wizard-replies-goal = Goal
wizard-replies-goal-hint = Optional. What the assistant should steer customers towards, such as "Book a table" or "Order online".
wizard-replies-goal-url = Goal link
wizard-replies-goal-url-hint = Optional. A full web address, starting with https://
wizard-replies-handoff = When to hand over to a person
wizard-replies-handoff-hint = Optional. One situation a line, at most { $count }. The assistant also hands over when a customer asks for a person.
wizard-replies-hours = Opening hours
wizard-replies-hours-hint = Optional, such as "9 am to 9 pm, every day". Used by the assistant and in the opening hours reply.
wizard-replies-address = Address
wizard-replies-address-hint = Optional, at most 80 characters. Used by the assistant and in the location reply.

wizard-replies-rules-legend = Ready-made replies
wizard-replies-rules-lead = Saved to: { $accounts }. A message containing one of a reply's keywords gets that reply at once, for free.
wizard-replies-rules-placeholders = { $name } is replaced by your business's name, { $hours } by the opening hours and { $address } by the address above when you save. A channel that already has a reply with the same name keeps its own.
wizard-replies-starter-use = Use this reply
wizard-replies-starter-keywords = Keywords
wizard-replies-starter-keywords-hint = Separated by commas. Capitals do not matter.
wizard-replies-starter-reply = Reply
wizard-replies-ai-default = Let the AI answer everything else
wizard-replies-ai-default-hint = For channels without replies of their own yet: any other message gets an AI reply for one credit. Unticked, it gets a short "thanks, we'll get back to you" instead.
wizard-replies-no-channel = Ready-made replies need a connected channel. Saving now keeps your assistant's answers; connect WhatsApp, Instagram or email to add them.
wizard-replies-no-channel-link = Connect a channel (step 2)
wizard-replies-save-note = Saving sends your assistant's instructions to the safety check.
wizard-replies-save = Save and continue

wizard-replies-test-title = Try it
wizard-replies-test-lead = Type a message as a customer would to see which reply answers it, with the replies as typed above. Nothing is saved or sent, and no credit is used.
wizard-replies-test-text = Customer's message
wizard-replies-test-submit = Test
wizard-replies-test-result = On { $account }
wizard-replies-test-matched = Answered by: { $label }
wizard-replies-test-default = No ready-made reply matches: the default reply answers.
wizard-replies-test-canned = The customer would get:
wizard-replies-test-ai = The customer would get an AI reply written for this message, for one credit.
wizard-replies-test-ai-paused = AI replies are paused until your assistant's instructions are approved, so for now this message would get no reply.
wizard-replies-test-off = Automatic replies switch on when you launch (next step).
wizard-replies-test-nothing-sent = Nothing was sent.
wizard-replies-test-failed = The test could not run just now. Please try again.

wizard-replies-channel-email = Email

wizard-replies-default-ai-label = Everything else (AI)
wizard-replies-default-ai-prompt = Answer the customer's message helpfully and briefly. If you cannot answer it from what you know about the business, say that someone from the team will reply soon.
wizard-replies-default-canned-label = Everything else
wizard-replies-default-canned = Thanks for your message! We'll get back to you soon.

wizard-replies-type-cafe = café
wizard-replies-type-restaurant = restaurant
wizard-replies-type-salon = salon
wizard-replies-type-clinic = clinic
wizard-replies-type-shop = shop
wizard-replies-type-services = service business
wizard-replies-type-other = business

wizard-replies-err-voice = Choose a voice.
wizard-replies-err-archetype = Choose one of the voices listed: the one chosen is no longer offered.
wizard-replies-err-max-80 = At most 80 characters.
wizard-replies-err-max-200 = At most 200 characters.
wizard-replies-err-goal-url = Give a full web address starting with https://, or leave it empty.
wizard-replies-err-handoff-count = At most 5 situations, one a line.
wizard-replies-err-handoff-line = Each situation at most 160 characters.
wizard-replies-err-keywords = Give at least one keyword, or untick "Use this reply".
wizard-replies-err-keyword-long = Each keyword at most 100 characters.
wizard-replies-err-keywords-count = At most 50 keywords.
wizard-replies-err-reply = Write the reply, or untick "Use this reply".
wizard-replies-err-reply-long = At most 4,096 characters.
wizard-replies-err-needs-hours = This reply mentions the opening hours: fill them in above, or write them into the reply.
wizard-replies-err-needs-address = This reply mentions the address: fill it in above, or write it into the reply.
wizard-replies-err-persona = These answers could not be saved as your assistant's instructions. Please check them.
wizard-replies-err-too-many-rules = A channel would have more than 50 replies. Untick some, or remove some under Reply rules.
wizard-replies-err-rules-not-saved = Your assistant was saved, but the replies of a channel could not be. Please save again.

## Starter replies. The replies may use { $name }, { $hours } and { $address }.

wizard-starter-hours-label = Opening hours
wizard-starter-hours-keywords = hours, timing, open, close
wizard-starter-hours-reply = We're open { $hours }. See you soon at { $name }!
wizard-starter-location-label = Location
wizard-starter-location-keywords = address, location, where are you, directions, how to reach
wizard-starter-location-reply = You'll find { $name } at { $address }.
wizard-starter-menu-label = Menu
wizard-starter-menu-keywords = menu, dishes, what do you serve
wizard-starter-menu-reply = Tell us what you're in the mood for and we'll suggest something from our menu!
wizard-starter-prices-label = Prices
wizard-starter-prices-keywords = price, cost, how much, charges
wizard-starter-prices-reply = Prices depend on what you choose. Tell us what you're interested in and we'll share the details.
wizard-starter-table-label = Table booking
wizard-starter-table-keywords = book a table, reserve, reservation, table for
wizard-starter-table-reply = We'd love to have you! Tell us the day, the time and how many of you are coming, and we'll confirm your table.
wizard-starter-appointment-label = Appointments
wizard-starter-appointment-keywords = appointment, book, slot
wizard-starter-appointment-reply = Tell us what you need and a day and time that suit you, and we'll confirm your appointment.
wizard-starter-booking-label = Bookings
wizard-starter-booking-keywords = book, schedule, availability
wizard-starter-booking-reply = Tell us what you need and when, and we'll confirm your booking.
wizard-starter-delivery-label = Delivery
wizard-starter-delivery-keywords = deliver, delivery, shipping, courier
wizard-starter-delivery-reply = Send us your address and what you'd like, and we'll tell you when and how we can deliver.
wizard-starter-services-label = Services
wizard-starter-services-keywords = services, treatments, what do you offer
wizard-starter-services-reply = Tell us what you're looking for and we'll share the options at { $name }.
wizard-starter-returns-label = Returns
wizard-starter-returns-keywords = return, refund, exchange
wizard-starter-returns-reply = Sorry it didn't work out! Send us your order details and we'll help you with a return or exchange.

## Step 5: launch.

wizard-launch-title = Launch
wizard-launch-lead = Check what happens to the next message on each channel, then switch automatic replies on.
wizard-launch-balance-title = Credits
wizard-launch-balance = { $count ->
    [one] { $balance } credit
   *[other] { $balance } credits
}
wizard-launch-balance-text = Each AI reply uses one credit. Ready-made replies are free.
wizard-launch-buy = Buy more credits
wizard-launch-auto-on = Automatic replies on
wizard-launch-free = { $count ->
    [one] Answered at once, for free, by this ready-made reply:
   *[other] Answered at once, for free, by these ready-made replies:
}
wizard-launch-no-free = No ready-made replies on this channel.
wizard-launch-ai-rules = AI replies, for one credit each: { $rules }.
wizard-launch-otherwise-ai = Any other message gets an AI reply, for one credit.
wizard-launch-otherwise-none = Any other message would get an AI reply, but for now it gets none:
wizard-launch-otherwise-canned = Any other message gets this reply, for free:
wizard-launch-off-note = With automatic replies off, nothing is sent on this channel.
wizard-launch-not-set-up = No replies are set up for this channel yet, so it will not answer.
wizard-launch-not-set-up-link = Set up its replies (previous step)
wizard-launch-no-channel = No channel is connected yet, so there is nothing to answer. You can connect channels later from the dashboard.
wizard-launch-submit = Launch
wizard-launch-err-form = The form was not sent as expected. Please try again.
wizard-launch-err-save = A channel's automatic replies could not be switched. Please try again.
