-- Issue 15: delivery that survives crashes and bad minutes.
-- attempt_started_at: when the send of the current attempt began; cleared when its outcome is
--   recorded. A row claimed again with it still set may already be at the provider, so it is
--   looked up there before being sent again (no duplicate after a crash).
-- first_attempt_at: when the first attempt began; transient failures are retried until
--   NOTIFY_RETRY_FOR has passed since then (cleared when an admin re-queues the row).
-- delivery_checked_at: when reconciliation last fetched the message's status at the provider.
ALTER TABLE notification_log ADD COLUMN attempt_started_at TIMESTAMPTZ NULL;
ALTER TABLE notification_log ADD COLUMN first_attempt_at TIMESTAMPTZ NULL;
ALTER TABLE notification_log ADD COLUMN delivery_checked_at TIMESTAMPTZ NULL;
-- Reconciliation reads the WhatsApp rows SENT within the last days.
CREATE INDEX notification_log_sent_at_idx ON notification_log (sent_at) WHERE status = 'SENT';
