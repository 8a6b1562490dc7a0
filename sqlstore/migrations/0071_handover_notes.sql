-- The previous owner's note for the new one, shown on the brief; and the
-- handovers to each person, for their first contacts.
ALTER TABLE handovers ADD COLUMN note TEXT NOT NULL DEFAULT '';
CREATE INDEX handovers_to_owner ON handovers (to_owner, handed_at);
