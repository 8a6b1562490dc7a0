-- A daily digest of notifications in place of single emails, for those who
-- choose it (the preference kind 'digest'): when each notification went
-- out in a digest, NULL until then or for those emailed singly.
ALTER TABLE notifications ADD COLUMN digest_at BIGINT;
CREATE INDEX notifications_digest ON notifications (user_id, digest_at);
