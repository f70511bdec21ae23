## Discord: answers that used to carry the pipeline's own (English) words. Each is worded here from
## a code instead, in the tenant's language.

# A refusal the interactions Worker has no words of its own for: the pipeline's message is never
# shown (it is English and meant for logs and developers).
discord-action-failed = Not done, and nothing was sent to the customer. Try again in a moment, or act from your dashboard.
# /domains: a subdomain whose setup failed; $reason is email-setup-failed.
discord-domain-failed = Setup failed: { $reason } Try again from the dashboard.
