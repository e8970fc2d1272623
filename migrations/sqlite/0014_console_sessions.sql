-- Sessions of the admin console (issue 14): the cookie holds an opaque random id, the table only
-- its SHA-256, so a copy of the database opens no session. Any replica serves any session.
-- A password change or a deactivation deletes the user's rows (db/users.rs), and the lookup
-- also refuses a row created before the user's `tokens_valid_after`.
CREATE TABLE console_sessions (
    id_hash      VARCHAR(64) NOT NULL PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   DATETIME NOT NULL,
    last_seen_at DATETIME NOT NULL
);
CREATE INDEX console_sessions_user_idx ON console_sessions (user_id);
