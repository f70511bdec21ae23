-- The dashboard: people who sign in, their server-side sessions, the tenant's money settings and
-- the persona archetype catalog.

ALTER TABLE tenants ADD COLUMN currency TEXT NOT NULL DEFAULT 'INR' CHECK (currency IN ('INR', 'USD'));

-- A person who signs in. One identity (provider + subject) belongs to one tenant.
CREATE TABLE users (
  id          TEXT PRIMARY KEY,
  tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  provider    TEXT NOT NULL CHECK (provider IN ('google', 'facebook', 'dev')),
  subject     TEXT NOT NULL,
  email       TEXT,
  name        TEXT,
  created_at  INTEGER NOT NULL,
  UNIQUE (provider, subject)
);
CREATE INDEX users_tenant ON users (tenant_id);

-- Server-side sessions: the cookie carries a random token, the row only its SHA-256, so a leaked
-- database cannot be replayed as cookies. Deleting the row revokes the session at once.
CREATE TABLE sessions (
  token_hash  TEXT PRIMARY KEY,
  user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  -- Synchronizer token for CSRF: every state-changing request must echo it.
  csrf_token  TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expiry ON sessions (expires_at);

-- Persona archetypes the builder offers (operators curate them; the persona copies the prompt
-- when chosen, so a later catalog edit never changes a tenant's persona silently).
CREATE TABLE archetypes (
  id          TEXT PRIMARY KEY,
  name        TEXT NOT NULL,
  description TEXT NOT NULL,
  prompt      TEXT NOT NULL,
  status      TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'retired')),
  sort_order  INTEGER NOT NULL DEFAULT 0
);
INSERT INTO archetypes (id, name, description, prompt, sort_order) VALUES
  ('cafe-host', 'Café host', 'Warm and quick, for cafés, bakeries and restaurants.',
   'You are the friendly host of a neighbourhood café. Greet warmly, answer questions about the menu, opening hours, location and table bookings in one or two short sentences, and suggest a favourite item when it fits. Never invent prices or dishes you were not told about.', 1),
  ('clinic-desk', 'Clinic front desk', 'Calm and precise, for clinics, salons and studios that take appointments.',
   'You are the front desk of an appointment-based business. Be calm, courteous and precise. Help customers find a suitable slot, explain how to book or reschedule, and never give medical, legal or financial advice.', 2),
  ('shop-assistant', 'Shop assistant', 'Helpful and upbeat, for retail and online shops.',
   'You are a helpful shop assistant. Answer questions about products, sizes, availability, delivery and returns briefly and cheerfully. When you do not know something, say so and offer to pass the question to the team.', 3),
  ('concise-support', 'Concise support', 'Short, clear answers and no small talk.',
   'You answer customer questions in as few words as clearly possible: one or two plain sentences, no small talk, no emoji. When a question needs a person, say that someone from the team will reply.', 4);
