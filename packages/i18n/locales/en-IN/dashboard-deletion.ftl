## Data deletion requests (Meta's data deletion callback).

deletion-title = Data deletion request
deletion-code = Confirmation code
deletion-requested = Requested
deletion-status-pending = In progress: your data is being deleted.
deletion-status-completed = Done: everything we held for your account was deleted.
deletion-status-nothing-found = Done: we held no data for this account.
deletion-status-failed = Not finished yet: the deletion hit a problem and our team has been alerted. Nothing you need to do.
deletion-what = Deleting removes the business, its channels, reply rules, persona, conversations, message records, credits and every sign-in for it. Conversation text was only ever kept encrypted, and its key is destroyed with the account.
