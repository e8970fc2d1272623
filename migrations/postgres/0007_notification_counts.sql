-- Issue 11: the log's counts without reading the log. `notification_counts` holds how many rows
-- there are per channel, status and delivery status ('' for none); triggers keep it in the same
-- transaction as every write to the log (inserts, status moves, deletes, cascades included), so
-- it is exact by construction. Each connection adds to its own slot (its backend pid modulo 64),
-- so concurrent steps do not queue on one counter row; readers sum the slots.
CREATE TABLE notification_counts (
    notification_type VARCHAR(15) NOT NULL,
    status            VARCHAR(10) NOT NULL,
    delivery_status   VARCHAR(20) NOT NULL,
    slot              INTEGER NOT NULL,
    n                 BIGINT NOT NULL,
    PRIMARY KEY (notification_type, status, delivery_status, slot)
);
INSERT INTO notification_counts (notification_type, status, delivery_status, slot, n)
    SELECT notification_type, status, COALESCE(delivery_status, ''), 0, COUNT(*)
    FROM notification_log GROUP BY notification_type, status, COALESCE(delivery_status, '');

-- Statement-level triggers over transition tables: one upsert per (channel, status, delivery
-- status) a statement touches, however many rows it writes (a bulk retry, an import, a prune),
-- instead of one per row. An UPDATE adds the new rows and takes away the old ones; groups whose
-- net change is zero (a lease, a read mark) write nothing.
CREATE FUNCTION notification_counts_track() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO notification_counts AS c (notification_type, status, delivery_status, slot, n)
            SELECT notification_type, status, COALESCE(delivery_status, ''), pg_backend_pid() % 64, COUNT(*)
            FROM new_rows GROUP BY 1, 2, 3
            ON CONFLICT (notification_type, status, delivery_status, slot) DO UPDATE SET n = c.n + EXCLUDED.n;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO notification_counts AS c (notification_type, status, delivery_status, slot, n)
            SELECT notification_type, status, COALESCE(delivery_status, ''), pg_backend_pid() % 64, -COUNT(*)
            FROM old_rows GROUP BY 1, 2, 3
            ON CONFLICT (notification_type, status, delivery_status, slot) DO UPDATE SET n = c.n + EXCLUDED.n;
    ELSE
        INSERT INTO notification_counts AS c (notification_type, status, delivery_status, slot, n)
            SELECT t, s, d, pg_backend_pid() % 64, SUM(delta) FROM (
                SELECT notification_type AS t, status AS s, COALESCE(delivery_status, '') AS d, 1 AS delta FROM new_rows
                UNION ALL
                SELECT notification_type, status, COALESCE(delivery_status, ''), -1 FROM old_rows
            ) moved GROUP BY 1, 2, 3 HAVING SUM(delta) <> 0
            ON CONFLICT (notification_type, status, delivery_status, slot) DO UPDATE SET n = c.n + EXCLUDED.n;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER notification_counts_insert AFTER INSERT ON notification_log
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION notification_counts_track();
CREATE TRIGGER notification_counts_delete AFTER DELETE ON notification_log
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION notification_counts_track();
CREATE TRIGGER notification_counts_update AFTER UPDATE ON notification_log
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION notification_counts_track();

-- The admin's log filtered by status (with or without the channel) reads in page order.
CREATE INDEX notification_log_status_idx ON notification_log (status, created_at DESC);
CREATE INDEX notification_log_type_status_idx ON notification_log (notification_type, status, created_at DESC);
