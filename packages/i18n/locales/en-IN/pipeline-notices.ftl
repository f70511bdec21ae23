## Texts the pipeline produces for the tenant outside the dashboard's own pages: why an email
## address could not be set up, and the sender of forwarded mail.

# Why setting up a subdomain at Cloudflare failed, shown in the dashboard and in Discord's /domains.
# $step: dns (mail switched on for the subdomain), rule (its mail sent on to Concierge) or other;
# $code: Cloudflare's error number, or "none".
email-setup-failed =
    { $step ->
        [dns] Cloudflare could not switch on mail for this address
        [rule] Cloudflare could not pass this address's mail on to Concierge
       *[other] Setting up this address did not finish
    }{ $code ->
        [none] .
       *[other] { " " }(Cloudflare error { $code }).
    }

# The sender's name on a customer's mail forwarded to one of the tenant's addresses.
email-forward-from = { $sender } via { $domain }
