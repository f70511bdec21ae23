# The 429 page of the dashboard's rate limits (apps/dashboard/src/rate-limits.ts).
rate-limited-title = Too many tries
rate-limited-body = You have done this too many times in a short while, so this time nothing was done or sent. Wait { $seconds } seconds, then try again.
rate-limited-back = Back to the dashboard
rate-limited-sign-in = Back to sign-in
