-- Issue 15 item 6: channel health. An incident is a channel failing in a way only an admin can
-- fix (credentials, sender, account, daily limit, template: `domain::delivery::channel_fault`).
-- The worker opens one on such a failure, alerting the active admins once, counts the failures
-- while it stays open, and closes it on the channel's next successful send.
-- At most one open incident per channel (the partial unique index): two replicas racing to open
-- one insert it once, so the admins are alerted once.
CREATE TABLE channel_incidents (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    channel      VARCHAR(15) NOT NULL CHECK (channel IN ('EMAIL', 'WHATSAPP')),
    cause        VARCHAR(20) NOT NULL,
    error_code   VARCHAR(20) NOT NULL,
    cause_text   TEXT NOT NULL,
    fix_text     TEXT NOT NULL,
    opened_at    DATETIME NOT NULL,
    last_seen_at DATETIME NOT NULL,
    closed_at    DATETIME NULL,
    failures     BIGINT NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX channel_incidents_one_open ON channel_incidents (channel) WHERE closed_at IS NULL;
