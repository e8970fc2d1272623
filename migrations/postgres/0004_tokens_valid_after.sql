-- A password change revokes the refresh tokens issued before it (contract section 17, item 13):
-- a refresh token whose `iat` is earlier than this second is refused.
ALTER TABLE users ADD COLUMN tokens_valid_after TIMESTAMPTZ NULL;
