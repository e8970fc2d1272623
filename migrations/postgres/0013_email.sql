-- Issue 13: e-mail through the outbox.
-- html: an EMAIL row's HTML alternative (the plain text is `message`, as the original stored it).
-- fallback_of: the WhatsApp row that failed and that this e-mail replaces; unique, so a failed
--   message falls back once, however often its failure is reported.
ALTER TABLE notification_log ADD COLUMN html TEXT NULL;
ALTER TABLE notification_log ADD COLUMN fallback_of BIGINT NULL REFERENCES notification_log (id) ON DELETE SET NULL;
CREATE UNIQUE INDEX notification_log_fallback_of_uniq ON notification_log (fallback_of);
