## Billing: buying credits, checkout, payments and receipts (issue 13).

billing-source-trial = Trial credits
billing-reason-refund = Refund: unspent credits taken back
billing-payments-link = Payments and receipts
billing-packs = Buy credits
billing-packs-lead = Pay once through Razorpay's secure checkout. Purchased credits never expire.
billing-packs-none = No credit packs are on sale in { $currency } right now.
billing-packs-not-set-up = Payments are not set up on this installation yet, so packs cannot be bought here.
billing-pack-credits = { $count ->
    [one] { $credits } credit
   *[other] { $credits } credits
}
billing-pack-per-credit = { $price } per AI reply
billing-pack-buy = Buy { $credits } credits for { $price }
billing-err-pack = That pack is not on sale any more. Choose one of the packs below.
billing-err-order = Razorpay could not be reached, so the order was not created and nothing was charged. Please try again in a minute.
billing-err-order-refused = Razorpay did not accept this order, so nothing was charged. Please try again later or write to us if it keeps happening.
billing-checkout-cancelled = Payment cancelled. Nothing was charged.
billing-checkout-failed = The payment did not go through and no credits were added. You can try again with the same or another payment method.
billing-checkout-pending = Razorpay has your payment and is still confirming it. Your credits are added as soon as it is confirmed; you do not need to pay again.

checkout-title = Checkout
checkout-description = { $count ->
    [one] { $credits } AI reply credit
   *[other] { $credits } AI reply credits
}
checkout-lead = You pay on Razorpay's secure checkout; we never see your card or bank details. When it is done you come back here and the credits are added to your balance.
checkout-pay = Pay { $price }
checkout-cancel = Cancel
checkout-order-ref = Order { $order }
checkout-merchant-name = Concierge
checkout-dismissed = Checkout was closed before paying. Nothing was charged; you can pay now or cancel.
checkout-failed-inline = That payment did not go through. You can try again in the checkout window.
checkout-err-invalid = This is not a payment confirmation we can use. Nothing was added to any balance. If you paid, your credits arrive on their own as soon as Razorpay tells us.
checkout-err-refused = Razorpay's confirmation of this payment could not be verified, so nothing was added. If you paid, your credits arrive on their own as soon as Razorpay tells us.
checkout-err-unconfirmed = We could not confirm the payment with Razorpay just now. If you paid, your credits arrive on their own within a few minutes; you do not need to pay again.

payments-title = Payments
payments-lead = Every payment made from this account, newest first, each with a printable receipt.
payments-back = Back to billing
payments-none = No payments yet.
payments-caption = Payments, newest first
payments-col-date = Date
payments-col-what = What
payments-col-amount = Amount
payments-col-status = Status
payments-col-receipt = Receipt
payments-receipt-link = Receipt
payments-pages = Payment pages
payments-newest = Newest payments
payments-older = Older payments
payments-status-captured = Paid
payments-status-failed = Failed
payments-status-refunded = Refunded
payments-status-partially-refunded = Partly refunded
payments-what-credits = { $count ->
    [one] { $credits } AI reply credit
   *[other] { $credits } AI reply credits
}
payments-what-subscription = Extra email subdomains, monthly
payments-what-subscription-quantity = { $quantity ->
    [one] { $quantity } extra email subdomain, monthly
   *[other] { $quantity } extra email subdomains, monthly
}

receipt-title = Receipt
receipt-heading = Payment receipt
receipt-platform = Concierge
receipt-back = All payments
receipt-print = Print
receipt-billed-to = Billed to
receipt-gstin = GSTIN: { $gstin }
receipt-no-details = Your legal name and address are not on this receipt yet.
receipt-add-details = Add them in settings.
receipt-date = Date
receipt-payment-id = Payment id
receipt-order-id = Razorpay order
receipt-method = Paid with
receipt-status = Status
receipt-col-item = Item
receipt-col-amount = Amount
receipt-refunded = Refunded
receipt-credits-taken-back = { $count ->
    [one] { $credits } unspent credit taken back
   *[other] { $credits } unspent credits taken back
}
receipt-total = Total paid
receipt-net = Total after refunds
receipt-not-charged = Charged
receipt-paid-credits = Payment received: { $count ->
    [one] { $credits } credit was added to your balance.
   *[other] { $credits } credits were added to your balance.
}
receipt-paid-subscription = Payment received: your extra email subdomains are paid for.

## Settings: billing details.

settings-billing = Billing details
settings-billing-lead = Printed on every receipt. Enter them as they should appear on your invoices.
settings-billing-legal-name = Legal name
settings-billing-legal-name-hint = Your business's registered name, up to 200 characters.
settings-billing-address = Billing address
settings-billing-address-hint = The full postal address, up to 500 characters.
settings-billing-gstin = GSTIN (optional)
settings-billing-gstin-hint = 15 characters, like 29ABCDE1234F1Z5. Leave it empty if you are not registered for GST.
settings-billing-save = Save billing details
settings-err-legal-name = Enter your legal name, up to 200 characters.
settings-err-address = Enter your billing address, up to 500 characters.
settings-err-gstin = A GSTIN is 15 characters like 29ABCDE1234F1Z5: 2 digits, 10 characters of your PAN, 1 character, Z and a check character. Leave it empty if you have none.
settings-err-billing-stale = The billing details were changed somewhere else after you opened this page. These are the saved ones now; make your change again and save.

## Email: the extra-subdomain subscription.

sub-heading = Extra subdomains
sub-quota-extra = { $used } subdomains: { $quota } included, { $extra } extra.
sub-plan = { $price } per extra subdomain per month. { $quota ->
    [one] Your first subdomain is included.
   *[other] Your first { $quota } subdomains are included.
}
sub-no-plan = { $quota ->
    [one] Your plan includes one subdomain. Extra subdomains are not on sale in your currency yet.
   *[other] Your plan includes { $quota } subdomains. Extra subdomains are not on sale in your currency yet.
}
sub-state = { $quantity ->
    [one] Subscription for { $quantity } extra subdomain:
   *[other] Subscription for { $quantity } extra subdomains:
}
sub-renews = renews { $date }
sub-quantity = How many extra subdomains
sub-quantity-hint = { $price } each per month, 1 to { $max }. Billed monthly by Razorpay until you cancel.
sub-subscribe = Subscribe
sub-subscribe-again = Subscribe again
sub-cancel = Cancel subscription
sub-cancel-confirm = { $count ->
    [0] The subscription ends now and is not charged again.
    [one] The subscription ends now and is not charged again. Your extra subdomain keeps receiving mail, but its automatic replies and forwards stop.
   *[other] The subscription ends now and is not charged again. Your { $count } extra subdomains keep receiving mail, but their automatic replies and forwards stop.
}
sub-cancel-submit = Cancel subscription now
sub-status-created = Waiting for payment
sub-status-authenticated = Paid
sub-status-active = Active
sub-status-pending = Payment retrying
sub-status-halted = Halted
sub-status-cancelled = Cancelled
sub-status-completed = Ended
sub-status-expired = Expired
sub-status-paused = Paused
sub-banner-title = Your subscription for extra subdomains: { $status }
sub-banner-stopped = { $count ->
    [one] Automatic replies and forwards on your extra subdomain are stopped until it is paid for. Mail to it is still accepted and relayed to your inbox, so nothing is lost.
   *[other] Automatic replies and forwards on your { $count } extra subdomains are stopped until they are paid for. Mail to them is still accepted and relayed to your inbox, so nothing is lost.
}
sub-banner-retrying = Razorpay could not charge the subscription and is trying again. Your extra subdomains keep working meanwhile; if every retry fails, their automatic replies and forwards stop (mail is still relayed to your inbox).
sub-banner-pay = Pay again
sub-banner-manage = See the subscription
sub-continue = Continue to payment
sub-replace-lead = Paying again cancels the halted subscription and starts a new one; you pay the first month now.
sub-pay-again = Pay again
sub-notice-active = Payment received: your extra subdomains are paid for.
sub-notice-cancelled = Subscription cancelled. It will not be charged again.
sub-notice-checkout-cancelled = Checkout cancelled. Nothing was charged.
sub-notice-failed = The subscription payment did not go through and nothing was charged. You can try again.
sub-err-quantity = Enter a whole number from 1 to 20.
sub-err-already = You already have a subscription for extra subdomains. Cancel it first to start another.
sub-err-no-plan = Extra subdomains are not on sale in your currency yet.
sub-err-unconfirmed = We could not confirm the subscription with Razorpay just now. If you paid, it becomes active on its own within a few minutes; you do not need to pay again.
sub-err-start = Razorpay could not be reached, so nothing was started or charged. Please try again in a minute.
sub-err-cancel = Razorpay could not cancel the subscription just now. Nothing changed; please try again.
sub-checkout-title = Pay for extra subdomains
sub-checkout-description = { $quantity ->
    [one] { $quantity } extra email subdomain
   *[other] { $quantity } extra email subdomains
}
sub-per-month = { $price } per month
sub-checkout-lead = You authorise a monthly payment on Razorpay's secure checkout; we never see your card or bank details. You can cancel at any time from the email page.
sub-checkout-pay = Subscribe for { $price } per month
