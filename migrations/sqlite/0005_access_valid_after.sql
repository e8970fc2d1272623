-- A deactivation revokes the access tokens issued before it, even after a re-activation (issue 10,
-- item 13). Both instants, this one and `tokens_valid_after`, are compared with a token's issue
-- time to the microsecond (its `iat_us` claim, or the start of its `iat` second).
ALTER TABLE users ADD COLUMN access_valid_after DATETIME NULL;
