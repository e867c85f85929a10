-- Issue 4 (quotas and waiting estimates). Every column has a default or is nullable, so rows and
-- writers that predate them keep working.
ALTER TABLE slots
  -- Per-source reservations: [{ "source", "places", "releaseMinutesBeforeStart" }], sum <= capacity.
  ADD COLUMN quotas                 jsonb NOT NULL DEFAULT '[]'::jsonb,
  -- The doctor's running consultation average in this slot (minutes); null for slots created before it.
  ADD COLUMN consultation_minutes   double precision CHECK (consultation_minutes > 0),
  -- Completed consultations measured in this slot (0: the average is still the seed).
  ADD COLUMN consultation_samples   integer NOT NULL DEFAULT 0,
  -- The time of the slot's last change: waiting estimates are computed from it.
  ADD COLUMN estimate_base          timestamptz;

ALTER TABLE tokens
  ADD COLUMN called_at     timestamptz,
  ADD COLUMN completed_at  timestamptz;

-- The allocator seeds a new slot's estimate from the doctor's latest slot with measurements.
CREATE INDEX slots_doctor_measured ON slots (doctor_id, starts_at DESC) WHERE consultation_samples > 0;
