## Onboarding wizard (/dashboard/wizard): the frame and steps 1–3.

wizard-steps-label = Setup steps
wizard-step-of = Step { $n } of { $total }
wizard-step-basics = Business basics
wizard-step-channels = Connect channels
wizard-step-notifications = Notifications
wizard-step-replies = Replies
wizard-step-launch = Launch
wizard-back = Back
wizard-leave = Finish later
wizard-continue = Save and continue
