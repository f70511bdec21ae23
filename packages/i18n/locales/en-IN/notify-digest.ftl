## Tenant notices about held drafts, gathered notices and the summary digest (Discord and email).
## Counts and masked ids only: never a customer's words.

notify-approval-subject = A reply is waiting for your approval
notify-approval = 📝 A reply to a customer on { $channel } ({ $customer }) is waiting for your approval. Open Approvals in the dashboard to send, edit or reject it.

notify-batch-subject = Customers are waiting for you
notify-batch-both = 🔔 { $handoffs ->
    [one] 1 handoff
   *[other] { $handoffs } handoffs
  } and { $approvals ->
    [one] 1 approval
   *[other] { $approvals } approvals
  } are waiting for you.
notify-batch-handoffs = 🔔 { $handoffs ->
    [one] 1 customer is
   *[other] { $handoffs } customers are
  } waiting for a person.
notify-batch-approvals = 📝 { $approvals ->
    [one] 1 reply is
   *[other] { $approvals } replies are
  } waiting for your approval.
notify-batch-channel = { $channel }: { $handoffs ->
    [one] 1 handoff
   *[other] { $handoffs } handoffs
  }, { $approvals ->
    [one] 1 approval
   *[other] { $approvals } approvals
  }
notify-batch-open = Open the dashboard to answer them.

notify-digest-subject-daily = Your Concierge day: { $period }
notify-digest-subject-weekly = Your Concierge week: { $period }
notify-digest-intro-daily = 📊 Your day with Concierge, { $period }:
notify-digest-intro-weekly = 📊 Your week with Concierge, { $period }:
notify-digest-quiet = No customer messages in this period.
notify-digest-channel = { $channel }: { $received } in, { $sent } out
notify-digest-ai = AI replies: { $count }
notify-digest-handoffs = Handoffs to a person: { $count }
notify-digest-approvals = Replies waiting for your approval now: { $count }
notify-digest-balance = Balance now: { $balance ->
    [one] 1 AI reply
   *[other] { $balance } AI replies
  }
notify-digest-footer = You get this summary because you chose it in Settings → Notifications. Choose "off" there to stop it.

## The link that confirms an address the tenant added: it may get the tenant's notifications or
## forwarded customer mail. The link itself follows on its own line (not in the message).
notify-verify-subject = Confirm this address for { $business }
notify-verify-intro = { $business } wants to send mail to { $address } through Concierge: notifications about its customers, or customer mail it forwards to you.
notify-verify-confirm = If that is you, confirm within 7 days:
notify-verify-ignore = If you did not expect this, ignore this message: nothing will be sent to you.
notify-given-up-subject = A customer did not get a reply
notify-given-up = ⚠️ A customer on { $channel } ({ $customer }) wrote more than a day ago and could not be answered automatically: every attempt failed. Reply to them yourself from the Discord inbox or the dashboard.
notify-silent-subject = A channel has gone quiet
notify-silent = ⚠️ { $account } on { $channel } usually gets customer messages every day, but none has arrived for { $hours ->
    [one] { $hours } hour
   *[other] { $hours } hours
}. Its connection may have stopped working: open Channels in your dashboard and run the self-test, or reconnect it. You can change when this alert comes in Settings.
