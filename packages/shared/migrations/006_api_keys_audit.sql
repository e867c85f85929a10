-- API keys: only a hash of each key is kept. branch_id NULL means every branch (admin keys).
-- doctor_id binds a doctor-console key to one doctor's slots.
CREATE TABLE api_keys (
  id          text PRIMARY KEY,
  key_hash    text NOT NULL UNIQUE,
  role        text NOT NULL,
  branch_id   text,
  doctor_id   text,
  label       text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  revoked_at  timestamptz
);

-- Every command the gateway took, with who sent it and what came of it.
CREATE TABLE audit_log (
  id          bigserial PRIMARY KEY,
  at          timestamptz NOT NULL DEFAULT now(),
  key_id      text NOT NULL,
  role        text NOT NULL,
  branch_id   text,
  method      text NOT NULL,
  route       text NOT NULL,
  slot_id     text,
  token_id    text,
  status      integer NOT NULL,
  error_code  text
);
CREATE INDEX audit_log_slot ON audit_log (slot_id, id);

-- Which key booked a token, kept by the gateway for portal bookings: a portal may cancel only
-- what it booked.
CREATE TABLE token_owners (
  token_id  text PRIMARY KEY,
  key_id    text NOT NULL
);
