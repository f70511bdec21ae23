## Issue 18: retention of message records, insights' window, deletion progress.

settings-retention = Message records
settings-retention-lead = How long we keep the record of each message: who wrote, when, on which channel and how it was answered (never the text). Older records are deleted automatically; your insights show only what is kept.
settings-retention-days = Keep records for (days)
settings-retention-hint = From 7 to 730 days. New accounts keep them for 90.
settings-retention-save = Save record keeping
settings-err-retention = Enter a whole number of days from 7 to 730.
insights-window = Covers the last { $days } days, in your time zone.
insights-retention-note = Message records older than { $retention ->
    [one] { $retention } day
   *[other] { $retention } days
} are deleted under your record keeping setting.
settings-deleted-finishing = Your data can no longer be read: its key was destroyed first. The remaining records are being removed in steps every quarter of an hour: usually within the hour, within a day for a very large account.
deletion-rows-left = { $count ->
    [one] { $count } record still to delete.
   *[other] { $count } records still to delete.
}
deletion-rows-left-many = At least { $count } records still to delete.
manage-tenant-deleting-key = Data key
manage-tenant-deleting-key-gone = Destroyed: nothing sealed for this tenant can be read.
manage-tenant-deleting-key-kept = Not yet destroyed.
manage-tenant-deleting-left = Rows left
manage-tenant-deleting-rows = { $capped ->
    [yes] at least { $messages } message records, { $approvals } approvals, { $other } other rows
   *[no] { $messages } message records, { $approvals } approvals, { $other } other rows
}
manage-health-deletions = Tenant deletions not finished
manage-health-deletions-lead = Each is resumed by the 15-minute cron in bounded chunks. A very large one takes some hours (each run purges at most 3,000 conversations); one started more than a day ago is stuck: open the tenant for what is left, and check the logs for tenant.resume_failed.
manage-health-deletions-none = None.
manage-health-deletion-started = Started { $at }
manage-health-deletion-stuck = Stuck: started more than a day ago.

## Settings: the quiet-channel alert (issue 19 item 9).

settings-silence = Quiet channel alert
settings-silence-lead = A channel that gets customer messages every day and then suddenly none has usually lost its connection. We tell you once, by your notification channel or email, so you can run its self-test or reconnect it.
settings-silence-hours = Alert me after this many hours without a message
settings-silence-hint = From 1 to 168 hours (a week); 0 turns the alert off. The default is 24. Keep it shorter than your record keeping setting: the check reads the records of the days before the silence.
settings-silence-save = Save quiet channel alert
settings-err-silence = Enter a whole number of hours from 0 to 168.
