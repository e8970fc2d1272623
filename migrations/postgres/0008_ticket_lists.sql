-- Issue 11: a ticket page costs the page, not the table.
--
-- `ticket_counts` holds how many tickets there are per status, priority and category; triggers
-- keep it in the same transaction as every write to `tickets` (create, steps, edits, deletes,
-- cascades, the import), so the admin's count, filtered or not, is a sum of a few rows and
-- exact by construction. Each connection adds to its own slot (its backend pid modulo 64), so
-- concurrent steps do not queue on one counter row; readers sum the slots.
CREATE TABLE ticket_counts (
    status   VARCHAR(20) NOT NULL,
    priority VARCHAR(10) NOT NULL,
    category VARCHAR(15) NOT NULL,
    slot     INTEGER NOT NULL,
    n        BIGINT NOT NULL,
    PRIMARY KEY (status, priority, category, slot)
);
-- Writes to `tickets` wait while the counters are filled, so none is counted twice or missed.
LOCK TABLE tickets IN SHARE ROW EXCLUSIVE MODE;
INSERT INTO ticket_counts (status, priority, category, slot, n)
    SELECT status, priority, category, 0, COUNT(*) FROM tickets GROUP BY status, priority, category;

-- Statement-level triggers over transition tables (as `notification_counts_track`): one upsert
-- per group a statement touches, however many rows it writes (an import); an update whose
-- groups do not move (most edits, a step on the same status) writes nothing.
CREATE FUNCTION ticket_counts_track() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO ticket_counts AS c (status, priority, category, slot, n)
            SELECT status, priority, category, pg_backend_pid() % 64, COUNT(*)
            FROM new_rows GROUP BY 1, 2, 3
            ON CONFLICT (status, priority, category, slot) DO UPDATE SET n = c.n + EXCLUDED.n;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO ticket_counts AS c (status, priority, category, slot, n)
            SELECT status, priority, category, pg_backend_pid() % 64, -COUNT(*)
            FROM old_rows GROUP BY 1, 2, 3
            ON CONFLICT (status, priority, category, slot) DO UPDATE SET n = c.n + EXCLUDED.n;
    ELSE
        INSERT INTO ticket_counts AS c (status, priority, category, slot, n)
            SELECT s, p, k, pg_backend_pid() % 64, SUM(delta) FROM (
                SELECT status AS s, priority AS p, category AS k, 1 AS delta FROM new_rows
                UNION ALL
                SELECT status, priority, category, -1 FROM old_rows
            ) moved GROUP BY 1, 2, 3 HAVING SUM(delta) <> 0
            ON CONFLICT (status, priority, category, slot) DO UPDATE SET n = c.n + EXCLUDED.n;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER ticket_counts_insert AFTER INSERT ON tickets
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ticket_counts_track();
CREATE TRIGGER ticket_counts_delete AFTER DELETE ON tickets
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION ticket_counts_track();
CREATE TRIGGER ticket_counts_update AFTER UPDATE ON tickets
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ticket_counts_track();

-- Search (`?search=`, a case-insensitive substring of the title, description or project, as
-- `lower(column) LIKE '%term%'`): trigram GIN indexes on the lowered columns, which that very
-- condition uses for terms of three or more characters. Shorter terms have no trigram and are
-- searched by a scan. `pg_trgm` ships with PostgreSQL (contrib) and is a trusted extension: the
-- database's owner may create it. `fastupdate = off`: each write merges its trigrams at once,
-- so no pending list grows to be read by every search (and to make the planner, which counts
-- it, prefer a scan until the next vacuum).
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX tickets_title_trgm_idx ON tickets USING gin (lower(title) gin_trgm_ops) WITH (fastupdate = off);
CREATE INDEX tickets_description_trgm_idx ON tickets USING gin (lower(description) gin_trgm_ops) WITH (fastupdate = off);
CREATE INDEX tickets_project_trgm_idx ON tickets USING gin (lower(project_name) gin_trgm_ops) WITH (fastupdate = off);

-- An index for each ordering `?ordering=` offers, ties broken by id as the queries do, so a
-- page is read in index order and the reading stops at the page. The rank expressions are
-- those of `TicketOrder::sql` (priority LOW < MEDIUM < HIGH, status in workflow order).
DROP INDEX tickets_created_at_idx;
CREATE INDEX tickets_created_at_idx ON tickets (created_at DESC, id DESC);
DROP INDEX tickets_created_by_idx;
CREATE INDEX tickets_created_by_idx ON tickets (created_by_id, created_at DESC, id DESC);
-- The common filters: one status, or a status and a priority, newest first.
DROP INDEX tickets_status_priority_idx;
CREATE INDEX tickets_status_priority_idx ON tickets (status, priority, created_at DESC, id DESC);
CREATE INDEX tickets_status_created_idx ON tickets (status, created_at DESC, id DESC);
CREATE INDEX tickets_priority_rank_idx ON tickets (
    (CASE priority WHEN 'LOW' THEN 1 WHEN 'MEDIUM' THEN 2 WHEN 'HIGH' THEN 3 ELSE 0 END), created_at DESC, id DESC);
CREATE INDEX tickets_priority_rank_desc_idx ON tickets (
    (CASE priority WHEN 'LOW' THEN 1 WHEN 'MEDIUM' THEN 2 WHEN 'HIGH' THEN 3 ELSE 0 END) DESC, created_at DESC, id DESC);
CREATE INDEX tickets_status_rank_idx ON tickets (
    (CASE status WHEN 'NEW' THEN 1 WHEN 'OPENED' THEN 2 WHEN 'IN_PROGRESS' THEN 3 WHEN 'RESOLVED' THEN 4
     WHEN 'WAITING_APPROVAL' THEN 5 WHEN 'CLOSED' THEN 6 ELSE 0 END), created_at DESC, id DESC);
CREATE INDEX tickets_status_rank_desc_idx ON tickets (
    (CASE status WHEN 'NEW' THEN 1 WHEN 'OPENED' THEN 2 WHEN 'IN_PROGRESS' THEN 3 WHEN 'RESOLVED' THEN 4
     WHEN 'WAITING_APPROVAL' THEN 5 WHEN 'CLOSED' THEN 6 ELSE 0 END) DESC, created_at DESC, id DESC);
