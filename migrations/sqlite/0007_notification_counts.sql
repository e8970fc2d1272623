-- Issue 11: the log's counts without reading the log. `notification_counts` holds how many rows
-- there are per channel, status and delivery status ('' for none); triggers keep it in the same
-- transaction as every write to the log (inserts, status moves, deletes, cascades included), so
-- it is exact by construction. SQLite has one writer, so one slot (0) suffices; the column keeps
-- the schema that of PostgreSQL, where each connection adds to its own slot.
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

CREATE TRIGGER notification_counts_insert AFTER INSERT ON notification_log BEGIN
    INSERT INTO notification_counts (notification_type, status, delivery_status, slot, n)
        VALUES (NEW.notification_type, NEW.status, COALESCE(NEW.delivery_status, ''), 0, 1)
        ON CONFLICT (notification_type, status, delivery_status, slot) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER notification_counts_delete AFTER DELETE ON notification_log BEGIN
    INSERT INTO notification_counts (notification_type, status, delivery_status, slot, n)
        VALUES (OLD.notification_type, OLD.status, COALESCE(OLD.delivery_status, ''), 0, -1)
        ON CONFLICT (notification_type, status, delivery_status, slot) DO UPDATE SET n = n - 1;
END;
CREATE TRIGGER notification_counts_update AFTER UPDATE OF notification_type, status, delivery_status ON notification_log
    WHEN OLD.notification_type IS NOT NEW.notification_type OR OLD.status IS NOT NEW.status
         OR OLD.delivery_status IS NOT NEW.delivery_status
BEGIN
    INSERT INTO notification_counts (notification_type, status, delivery_status, slot, n)
        VALUES (OLD.notification_type, OLD.status, COALESCE(OLD.delivery_status, ''), 0, -1)
        ON CONFLICT (notification_type, status, delivery_status, slot) DO UPDATE SET n = n - 1;
    INSERT INTO notification_counts (notification_type, status, delivery_status, slot, n)
        VALUES (NEW.notification_type, NEW.status, COALESCE(NEW.delivery_status, ''), 0, 1)
        ON CONFLICT (notification_type, status, delivery_status, slot) DO UPDATE SET n = n + 1;
END;

-- The admin's log filtered by status (with or without the channel) reads in page order.
CREATE INDEX notification_log_status_idx ON notification_log (status, created_at DESC);
CREATE INDEX notification_log_type_status_idx ON notification_log (notification_type, status, created_at DESC);
