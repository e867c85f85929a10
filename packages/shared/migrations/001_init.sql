-- Doctors and their slots. A slot's row is written only by the allocator that owns its partition.
CREATE TABLE doctors (
  id          text PRIMARY KEY,
  branch_id   text NOT NULL,
  name        text NOT NULL,
  department  text,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE slots (
  id               text PRIMARY KEY,
  doctor_id        text NOT NULL REFERENCES doctors (id),
  branch_id        text NOT NULL,
  starts_at        timestamptz NOT NULL,
  ends_at          timestamptz NOT NULL,
  capacity         integer NOT NULL CHECK (capacity >= 1),
  status           text NOT NULL CHECK (status IN ('OPEN', 'CLOSED')),
  -- Denormalised for listings and reports; the tokens are the truth.
  active_count     integer NOT NULL DEFAULT 0,
  next_number      integer NOT NULL,
  version          bigint NOT NULL,
  kafka_partition  integer NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  CHECK (ends_at > starts_at)
);
CREATE INDEX slots_doctor_start ON slots (doctor_id, starts_at);

CREATE TABLE tokens (
  id             text PRIMARY KEY,
  slot_id        text NOT NULL REFERENCES slots (id),
  number         integer NOT NULL,
  source         text NOT NULL,
  weight         smallint NOT NULL,
  status         text NOT NULL,
  over_capacity  boolean NOT NULL,
  patient        jsonb NOT NULL,
  created_at     timestamptz NOT NULL,
  arrival_at     timestamptz NOT NULL,
  updated_at     timestamptz NOT NULL,
  cancel_reason  text,
  -- Token numbers are issued once per slot and never reused.
  UNIQUE (slot_id, number)
);

-- The allocator's consumed position per partition, committed in the same transaction as the
-- state it produced. owner_epoch fences a zombie that lost the partition.
CREATE TABLE partition_offsets (
  topic        text NOT NULL,
  partition    integer NOT NULL,
  next_offset  bigint NOT NULL,
  owner_epoch  bigint NOT NULL,
  owner        text,
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (topic, partition)
);

-- Transactional outbox: replies and snapshots written with the state, published after commit,
-- deleted once Kafka acknowledged them. Leftovers are published by the partition's next owner.
CREATE TABLE outbox (
  id              bigserial PRIMARY KEY,
  source_topic    text NOT NULL,
  kafka_partition integer NOT NULL,
  messages        jsonb NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX outbox_partition ON outbox (source_topic, kafka_partition, id);

-- Idempotency-Key -> the token id the first request was given.
CREATE TABLE idempotency_keys (
  key           text PRIMARY KEY,
  request_hash  text NOT NULL,
  token_id      text NOT NULL,
  slot_id       text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now()
);
