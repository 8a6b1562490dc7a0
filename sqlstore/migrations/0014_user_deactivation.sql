-- Deactivated users: someone who has left, or must not sign in for now,
-- keeps their name on their past work but can no longer sign in, and their
-- sessions and tokens stop working. Portable SQL, as in 0001.

-- When an admin deactivated the user; NULL while the user is active.
ALTER TABLE users ADD COLUMN deactivated_at BIGINT;
