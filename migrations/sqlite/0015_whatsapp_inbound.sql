-- Issue 15: WhatsApp messages from users (Twilio's inbound webhook, Meta's `messages` events),
-- the 24-hour customer-service window, replies that act, and STOP.
-- whatsapp_messages: every inbound message once (unique by the provider's id: a replay is
--   ignored), with the sender, the user whose number matched, and the command's outcome.
CREATE TABLE whatsapp_messages (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    provider            VARCHAR(20) NOT NULL,
    provider_message_id VARCHAR(64) NOT NULL,
    sender              VARCHAR(64) NOT NULL,
    user_id             INTEGER NULL REFERENCES users (id) ON DELETE SET NULL,
    profile_name        VARCHAR(150) NULL,
    body                TEXT NOT NULL,
    button_payload      VARCHAR(256) NULL,
    received_at         DATETIME NOT NULL,
    command             VARCHAR(20) NULL,
    ticket_id           INTEGER NULL REFERENCES tickets (id) ON DELETE SET NULL,
    outcome             VARCHAR(30) NOT NULL,
    outcome_detail      TEXT NULL,
    reply_id            INTEGER NULL REFERENCES notification_log (id) ON DELETE SET NULL
);
CREATE UNIQUE INDEX whatsapp_messages_provider_id_uniq ON whatsapp_messages (provider, provider_message_id);
CREATE INDEX whatsapp_messages_received_idx ON whatsapp_messages (received_at DESC);
CREATE INDEX whatsapp_messages_user_idx ON whatsapp_messages (user_id, received_at DESC);
CREATE INDEX whatsapp_messages_ticket_idx ON whatsapp_messages (ticket_id);
-- The sender of an inbound message is found by the number, as stored (E.164).
CREATE INDEX user_profiles_whatsapp_number_idx ON user_profiles (whatsapp_number);
-- The window opens with each inbound message; STOP sets the opt-out, START clears it.
ALTER TABLE user_profiles ADD COLUMN whatsapp_last_inbound_at DATETIME NULL;
ALTER TABLE user_profiles ADD COLUMN whatsapp_opted_out_at DATETIME NULL;
-- How the worker sent a WhatsApp row and why: text_in_window, template_outside_window,
-- text_outside_window_no_template, text_outside_window_by_policy, skipped_outside_window,
-- opted_out (see domain/window.rs).
ALTER TABLE notification_log ADD COLUMN whatsapp_path VARCHAR(40) NULL;
