## Tenant notifications (Discord and email). Never include a customer's words.

notify-handoff-subject = A customer is waiting for a person
notify-handoff = 🔔 A customer on { $channel } ({ $customer }) asked for a person. Conversation { $conversation } is waiting for your reply.
notify-low-balance-subject = Your Concierge balance is low
notify-low-balance = ⚠️ Your Concierge balance is down to { $balance ->
    [one] { $balance } AI reply
   *[other] { $balance } AI replies
  }. At zero, AI replies stop (canned replies still go). Top up in the dashboard.

channel-whatsapp = WhatsApp
channel-instagram = Instagram
channel-email = email
channel-discord = Discord
