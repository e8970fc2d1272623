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

CREATE FUNCTION notification_counts_track() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO notification_counts AS c (notification_type, status, delivery_status, slot, n)
            VALUES (OLD.notification_type, OLD.status, COALESCE(OLD.delivery_status, ''), pg_backend_pid() % 64, -1)
            ON CONFLICT (notification_type, status, delivery_status, slot) DO UPDATE SET n = c.n - 1;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        INSERT INTO notification_counts AS c (notification_type, status, delivery_status, slot, n)
            VALUES (NEW.notification_type, NEW.status, COALESCE(NEW.delivery_status, ''), pg_backend_pid() % 64, 1)
            ON CONFLICT (notification_type, status, delivery_status, slot) DO UPDATE SET n = c.n + 1;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER notification_counts_insert_delete AFTER INSERT OR DELETE ON notification_log
    FOR EACH ROW EXECUTE FUNCTION notification_counts_track();
CREATE TRIGGER notification_counts_update AFTER UPDATE OF notification_type, status, delivery_status ON notification_log
    FOR EACH ROW WHEN (OLD.notification_type IS DISTINCT FROM NEW.notification_type OR OLD.status IS DISTINCT FROM NEW.status
                       OR OLD.delivery_status IS DISTINCT FROM NEW.delivery_status)
    EXECUTE FUNCTION notification_counts_track();

-- The admin's log filtered by status (with or without the channel) reads in page order.
CREATE INDEX notification_log_status_idx ON notification_log (status, created_at DESC);
CREATE INDEX notification_log_type_status_idx ON notification_log (notification_type, status, created_at DESC);
