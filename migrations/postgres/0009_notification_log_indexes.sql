-- Issue 11: every list and count of the notification log reads an index in page order.
-- The bell's unread count and `unread/` list (recipient, SYSTEM, unread, newest first): one
-- range of this index, counted without reading the log. It replaces the index on (recipient,
-- is_read, created_at), whose every query also names the channel.
DROP INDEX notification_log_recipient_read_idx;
CREATE INDEX notification_log_recipient_unread_idx
    ON notification_log (recipient_id, notification_type, is_read, created_at DESC);
-- The admin's log filtered by delivery status (`?notification_type=WHATSAPP&delivery_status=failed`):
-- rare statuses would otherwise walk every row of the channel.
CREATE INDEX notification_log_type_delivery_idx
    ON notification_log (notification_type, delivery_status, created_at DESC);
