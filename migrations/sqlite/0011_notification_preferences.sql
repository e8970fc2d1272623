-- Issue 13: per-user notification preferences. A user without rows here has the defaults
-- (every channel on, UTC, no quiet hours), so only what a user changed is stored.

-- A user's time zone (an IANA name) and quiet hours, in minutes after local midnight
-- (start > end wraps midnight: 22:00-07:00 is 1320, 420).
CREATE TABLE notification_settings (
    user_id     INTEGER NOT NULL PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    time_zone   VARCHAR(64) NOT NULL,
    quiet_start INTEGER NULL,
    quiet_end   INTEGER NULL,
    updated_at  DATETIME NOT NULL
);

-- The channel choices per event that differ from the default (SYSTEM is always on).
CREATE TABLE notification_channel_prefs (
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    event   VARCHAR(30) NOT NULL,
    channel VARCHAR(15) NOT NULL CHECK (channel IN ('WHATSAPP', 'EMAIL')),
    enabled BOOLEAN NOT NULL,
    PRIMARY KEY (user_id, event, channel)
);
