-- Issue 19 items 1 and 2 (the live inbox; take over, hand back, pause): who controls each customer
-- thread, mirrored from its conversation object (the truth) so the inbox can list and filter
-- conversations from metadata alone. Written only when control changes (a handoff starts, a person
-- replies, takes over, hands back or pauses), never per message. No text: ids, a state, who, when.
CREATE TABLE conversation_states (
  tenant_id       TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  account_id      TEXT NOT NULL,
  customer_id     TEXT NOT NULL,
  -- The conversation the state belongs to: a handoff or a takeover ends with it (the idle gap),
  -- so a row naming an older conversation no longer applies. A pause is by time instead.
  conversation_id TEXT,
  -- Who answers apart from a pause; a pause is paused_until (the handoff under it shows again after).
  state           TEXT NOT NULL CHECK (state IN ('bot', 'handed_off', 'taken_over')),
  -- Who: 'ai' or 'rule' for a handoff the bot started, else the person (an email, a user id or discord:<member id>).
  actor           TEXT NOT NULL,
  paused_until    INTEGER,
  updated_at      INTEGER NOT NULL,
  PRIMARY KEY (account_id, customer_id)
);
-- Tenant deletion and retention walk a tenant's rows by it.
CREATE INDEX conversation_states_tenant ON conversation_states (tenant_id, updated_at);
