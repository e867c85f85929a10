-- Forwarded commands (next-slot bookings, reallocations) come from an outbox that publishes at
-- least once: the receiving slot records which it has decided, so a republished copy is skipped.
CREATE TABLE forwarded_commands (
  command_id  text NOT NULL,
  slot_id     text NOT NULL,
  decided_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (command_id, slot_id)
);

-- opd_commit_batch gains the forwarded commands it decided, and refuses a token id that another
-- slot already holds (an Idempotency-Key retry of a booking that went to the next slot).
DROP FUNCTION opd_commit_batch(text, int, bigint, bigint, jsonb, jsonb, jsonb);
CREATE OR REPLACE FUNCTION opd_commit_batch(
  p_topic text, p_partition int, p_epoch bigint, p_next_offset bigint,
  p_slots jsonb, p_tokens jsonb, p_outbox jsonb, p_forwarded jsonb
) RETURNS bigint LANGUAGE plpgsql AS $fn$
DECLARE
  v_outbox_id bigint := 0;
  v_rows integer;
BEGIN
  UPDATE partition_offsets SET next_offset = p_next_offset, updated_at = now()
   WHERE topic = p_topic AND partition = p_partition AND owner_epoch = p_epoch;
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  IF jsonb_array_length(p_slots) > 0 THEN
    INSERT INTO slots (id, doctor_id, branch_id, starts_at, ends_at, capacity, status, active_count, next_number, version, kafka_partition,
    delay_minutes, label_prefix, label_base, quotas, consultation_minutes, consultation_samples, estimate_base)
    SELECT id, doctor_id, branch_id, starts_at, ends_at, capacity, status, active_count, next_number, version, kafka_partition,
    delay_minutes, label_prefix, label_base, quotas, consultation_minutes, consultation_samples, estimate_base
    FROM jsonb_to_recordset(p_slots) AS s(id text, doctor_id text, branch_id text, starts_at timestamptz,
    ends_at timestamptz, capacity int, status text, active_count int, next_number int, version bigint, kafka_partition int,
    delay_minutes int, label_prefix text, label_base int, quotas jsonb, consultation_minutes double precision,
    consultation_samples int, estimate_base timestamptz)
    ON CONFLICT (id) DO UPDATE SET capacity = EXCLUDED.capacity, status = EXCLUDED.status,
    active_count = EXCLUDED.active_count, next_number = EXCLUDED.next_number, version = EXCLUDED.version,
    starts_at = EXCLUDED.starts_at, ends_at = EXCLUDED.ends_at, delay_minutes = EXCLUDED.delay_minutes,
    quotas = EXCLUDED.quotas, consultation_minutes = EXCLUDED.consultation_minutes,
    consultation_samples = EXCLUDED.consultation_samples, estimate_base = EXCLUDED.estimate_base;
  END IF;
  IF jsonb_array_length(p_tokens) > 0 THEN
    INSERT INTO tokens (id, slot_id, number, source, weight, status, over_capacity, patient, created_at, arrival_at, updated_at, cancel_reason,
    label, recall_count, moved_from, moved_to, called_at, completed_at)
    SELECT id, slot_id, number, source, weight, status, over_capacity, patient, created_at, arrival_at, updated_at, cancel_reason,
    label, recall_count, moved_from, moved_to, called_at, completed_at
    FROM jsonb_to_recordset(p_tokens) AS t(id text, slot_id text, number int, source text, weight smallint, status text,
    over_capacity boolean, patient jsonb, created_at timestamptz, arrival_at timestamptz, updated_at timestamptz, cancel_reason text,
    label text, recall_count int, moved_from text, moved_to text, called_at timestamptz, completed_at timestamptz)
    ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, updated_at = EXCLUDED.updated_at,
    cancel_reason = EXCLUDED.cancel_reason, recall_count = EXCLUDED.recall_count, moved_to = EXCLUDED.moved_to,
    called_at = EXCLUDED.called_at, completed_at = EXCLUDED.completed_at
    WHERE tokens.slot_id = EXCLUDED.slot_id;
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    -- A token id is booked into one slot only; the allocator retries the batch and answers with it.
    IF v_rows < jsonb_array_length(p_tokens) THEN
      RAISE EXCEPTION 'token id already belongs to another slot' USING ERRCODE = 'unique_violation';
    END IF;
  END IF;
  IF jsonb_array_length(p_forwarded) > 0 THEN
    INSERT INTO forwarded_commands (command_id, slot_id)
    SELECT command_id, slot_id FROM jsonb_to_recordset(p_forwarded) AS f(command_id text, slot_id text)
    ON CONFLICT DO NOTHING;
  END IF;
  IF jsonb_array_length(p_outbox) > 0 THEN
    INSERT INTO outbox (source_topic, kafka_partition, messages) VALUES (p_topic, p_partition, p_outbox)
    RETURNING id INTO v_outbox_id;
  END IF;
  RETURN v_outbox_id;
END
$fn$;
