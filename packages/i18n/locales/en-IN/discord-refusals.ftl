## Discord: why something was not done (a button, /domains), worded from the pipeline's code in
## the tenant's language, never from the pipeline's own (English) message.

# A refusal the interactions Worker has no words of its own for: the pipeline's message is never
# shown (it is English and meant for logs and developers).
discord-action-failed = Not done, and nothing was sent to the customer. Try again in a moment, or act from your dashboard.
# /domains: a subdomain whose setup failed; $reason is email-setup-failed.
discord-domain-failed = Setup failed: { $reason } Try again from the dashboard.
