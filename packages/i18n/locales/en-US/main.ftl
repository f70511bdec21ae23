## Tenant notifications (Discord and email). Never include a customer's words.

notify-handoff-subject = A customer is waiting for a person
notify-handoff = 🔔 A customer on { $channel } ({ $customer }) asked for a person. Conversation { $conversation } is waiting for your reply.
notify-mail-waiting-subject = An email is waiting for you in the inbox
notify-mail-waiting = 📬 An email from { $customer } was routed to a person. No Discord inbox is connected, so it is waiting for you in the dashboard's live inbox (Inbox).
notify-low-balance-subject = Your Concierge balance is low
notify-low-balance = ⚠️ Your Concierge balance is down to { $balance ->
    [one] { $balance } AI reply
   *[other] { $balance } AI replies
  }. At zero, AI replies stop (canned replies still go). Top up in the dashboard.

channel-whatsapp = WhatsApp
channel-instagram = Instagram
channel-email = email
channel-discord = Discord
