-- Issue 4 (day flow): slot delay, token labels, recalls and reallocation out of a closed slot.
-- Every column has a default so rows and writers that predate them keep working.
ALTER TABLE slots
  ADD COLUMN delay_minutes integer NOT NULL DEFAULT 0 CHECK (delay_minutes >= 0),
  -- First 3 letters of the doctor's name (e.g. SMI); null for slots created before labels.
  ADD COLUMN label_prefix  text,
  -- Sum of the capacities of the doctor's earlier slots that day: the label counter starts after it.
  ADD COLUMN label_base    integer NOT NULL DEFAULT 0;

ALTER TABLE tokens
  ADD COLUMN label         text,
  ADD COLUMN recall_count  integer NOT NULL DEFAULT 0,
  -- A token issued by reallocation names the token it replaces; a MOVED token names its replacement.
  ADD COLUMN moved_from    text,
  ADD COLUMN moved_to      text;
