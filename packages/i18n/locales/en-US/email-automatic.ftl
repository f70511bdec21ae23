# Automatic mail (auto-replies and forwards): only to authenticated senders, capped per day (issue 17).

## The tenant's email page
ea-heading = Automatic mail today
ea-count = { $sent } of { $limit } automatic emails (auto-replies and forwards) sent today.
ea-lead = Auto-replies and forwards go only to senders whose mail passes SPF, DKIM or DMARC, and at most { $limit } a day; any other mail still reaches your inbox.
ea-paused = Today's limit was reached at { $at }: auto-replies and forwards are paused until { $until }. New mail still reaches your inbox.
ea-off = Automatic mail is switched off for now: new mail reaches your inbox only.

## The operator's page
manage-nav-email = Email
manage-email-title = Automatic email
manage-email-lead = How many automatic emails (auto-replies and forwards) each tenant may send a day (UTC). Past it, mail goes to the tenant's inbox instead, and the tenant's email page says so.
manage-email-limit = Automatic emails per tenant per day
manage-email-limit-hint = From 0 to 100,000. 0 sends none.
manage-email-save = Save the limit
manage-email-saved = The limit was saved.
manage-email-saved-by = Last saved by { $email } on { $at }.
manage-err-email-limit = Enter a whole number from 0 to 100,000.
manage-audit-action-email-automatic-limit = Set the daily automatic email limit
