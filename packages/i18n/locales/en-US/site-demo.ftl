## The live demo chat (issue 15): the welcome page's section and /demo.

demo-title = Talk to { $business } as a customer
demo-lead = You are a customer of { $business }, a sample business. Ask what its customers ask; the answer comes through the same reply rules, AI persona and fixed limits a real business gets. Nothing you write is kept, and no real business or channel is involved.
demo-log-label = Your conversation with { $business }
demo-empty = No messages yet. Ask about opening hours, prices, a booking, or ask for a person.
demo-you = You
demo-via-rule = The business's own text, from a reply rule. No AI was used.
demo-via-ai = An AI reply in the chosen persona.
demo-via-handoff = Handed over to a person.
demo-via-none = No reply.
demo-handoff = A person from { $business } takes over here: the business is told once, and the automatic replies stay quiet until they have answered.
demo-no-reply = Nothing would be sent here: a person is already taking care of this conversation.
demo-held = Nothing would be sent to this message: the safety check held it back, or the AI had no answer to give.
demo-persona-legend = Who answers
demo-persona-hint = Personas from our catalog, each approved by our safety check. A business can pick one of these or write its own.
demo-persona-restart = Choosing another persona starts a new chat.
demo-no-personas = No persona is available for the demo right now. Please come back later.
demo-message-label = Your message
demo-message-hint = { $left ->
    [one] Up to { $max } characters. One message left in this chat.
   *[other] Up to { $max } characters. { $left } messages left in this chat.
}
demo-send = Send
demo-sending = Sending…
demo-done-title = That is the end of the demo chat
demo-done-text = { $turns ->
    [one] The demo lets you send one message.
   *[other] The demo lets you send { $turns } messages.
} Sign up to set up your own rules and persona for your business, and try them on as many messages as you like in the test panel, without sending anything to anyone.
demo-prompt-summary = View prompt
demo-prompt-none = Send a message to see exactly what the AI model is told.
demo-prompt-rule = The last reply came from a reply rule: the business's own text was sent and no AI model was called, so there is no prompt to show.
demo-prompt-lead = This is exactly what the AI model received for the last reply, character for character: the system prompt, then the messages.
demo-prompt-middle = Highlighted: the part a business writes (its persona and the rule's prompt). The text around it is fixed; businesses cannot edit it and customers cannot talk the AI out of it.
demo-prompt-middle-label = Written by the business
demo-prompt-system = System prompt
demo-prompt-messages = Messages
demo-role-user = Customer (user)
demo-role-assistant = Business (assistant)
demo-role-system = System
demo-err-empty = Write a message first.
demo-err-too-long = That message is longer than { $max } characters. Shorten it and send it again.
demo-err-burst = You are sending messages faster than the demo allows. Wait a minute, then send it again.
demo-err-quota = The demo has reached its limit for now, for you or for all visitors together. Please try again later, or sign up to try your own rules.
demo-err-archetype = That persona is not available any more. Choose another one and send your message again.
demo-err-turns = { $turns ->
    [one] This chat has used its one message. Sign up to keep going with your own business.
   *[other] This chat has used its { $turns } messages. Sign up to keep going with your own business.
}
demo-err-ai = The AI could not answer just now. Please send your message again in a minute.
demo-err-unavailable = The demo is not available right now. Please try again later.
demo-err-invalid = That message could not be sent. Reload the page and try again.
demo-err-origin = This message did not come from our demo page, so it was not sent.
