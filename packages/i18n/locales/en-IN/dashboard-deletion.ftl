## Data deletion requests (Meta's data deletion callback).

deletion-title = Data deletion request
deletion-code = Confirmation code
deletion-requested = Requested
deletion-status-pending = Received: your data is queued for deletion and will be deleted within the hour.
deletion-status-in-progress = In progress: your data is being deleted.
deletion-status-completed = Done: everything we held for your account was deleted.
deletion-status-nothing-found = Done: we held no data for this account.
deletion-status-failed = Not finished yet: the deletion hit a problem and our team has been alerted. Nothing you need to do.
deletion-what = Deleting removes the Instagram accounts you connected, with their conversations and message records, and your Facebook sign-in with its sessions. The business they belonged to keeps its other channels, its other sign-ins and its credits. Conversation text was only ever kept encrypted.
deletion-started = Started
deletion-provider-pending = { $count ->
    [one] Still being done at Meta: removing our app from { $count } Facebook Page. We keep retrying until Meta confirms it.
   *[other] Still being done at Meta: removing our app from { $count } Facebook Pages. We keep retrying until Meta confirms it.
}
deletion-provider-failed = { $count ->
    [one] Meta did not let us remove our app from { $count } Facebook Page; our team has been alerted. You can also remove it in your Facebook Page's settings.
   *[other] Meta did not let us remove our app from { $count } Facebook Pages; our team has been alerted. You can also remove it in your Facebook Pages' settings.
}
