## The operator panel (/manage) behind Cloudflare Access: what someone Access did not let in sees.

manage-access-title = Operators only
manage-access-denied = This part of the dashboard is for the platform team. Cloudflare Access has not signed you in, or your sign-in has expired or is not for this application.
manage-access-sign-in-local = Sign in with the sandbox's Cloudflare Access
manage-access-local-note = Locally the sandbox plays Cloudflare Access: any email is let in.
manage-access-csrf = This form expired or did not come from the operator panel. Go back, reload the page and try again.
manage-access-back = Back to the home page
