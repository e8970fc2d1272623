-- Issue 11: a ticket page costs the page, not the table.
--
-- `ticket_counts` holds how many tickets there are per status, priority and category; triggers
-- keep it in the same transaction as every write to `tickets` (create, steps, edits, deletes,
-- cascades, the import), so the admin's count, filtered or not, is a sum of at most 72 rows and
-- exact by construction. SQLite has one writer, so one slot (0) suffices; the column keeps the
-- schema that of PostgreSQL, where each connection adds to its own slot.
CREATE TABLE ticket_counts (
    status   VARCHAR(20) NOT NULL,
    priority VARCHAR(10) NOT NULL,
    category VARCHAR(15) NOT NULL,
    slot     INTEGER NOT NULL,
    n        BIGINT NOT NULL,
    PRIMARY KEY (status, priority, category, slot)
);
INSERT INTO ticket_counts (status, priority, category, slot, n)
    SELECT status, priority, category, 0, COUNT(*) FROM tickets GROUP BY status, priority, category;

CREATE TRIGGER ticket_counts_insert AFTER INSERT ON tickets BEGIN
    INSERT INTO ticket_counts (status, priority, category, slot, n)
        VALUES (NEW.status, NEW.priority, NEW.category, 0, 1)
        ON CONFLICT (status, priority, category, slot) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER ticket_counts_delete AFTER DELETE ON tickets BEGIN
    INSERT INTO ticket_counts (status, priority, category, slot, n)
        VALUES (OLD.status, OLD.priority, OLD.category, 0, -1)
        ON CONFLICT (status, priority, category, slot) DO UPDATE SET n = n - 1;
END;
CREATE TRIGGER ticket_counts_update AFTER UPDATE OF status, priority, category ON tickets
    WHEN OLD.status IS NOT NEW.status OR OLD.priority IS NOT NEW.priority OR OLD.category IS NOT NEW.category
BEGIN
    INSERT INTO ticket_counts (status, priority, category, slot, n)
        VALUES (OLD.status, OLD.priority, OLD.category, 0, -1)
        ON CONFLICT (status, priority, category, slot) DO UPDATE SET n = n - 1;
    INSERT INTO ticket_counts (status, priority, category, slot, n)
        VALUES (NEW.status, NEW.priority, NEW.category, 0, 1)
        ON CONFLICT (status, priority, category, slot) DO UPDATE SET n = n + 1;
END;

-- Search (`?search=`, a case-insensitive substring of the title, description or project): an
-- FTS5 index of trigrams over the three columns, reading its text from `tickets` (external
-- content) and kept in step by triggers. A quoted phrase of three or more characters matches
-- exactly the rows holding it as a substring of one column (`%` and `_` are plain characters
-- to it); shorter terms have no trigram and are searched by a scan (`db/ticket_list.rs`).
CREATE VIRTUAL TABLE tickets_search USING fts5(
    title, description, project_name, content = 'tickets', content_rowid = 'id', tokenize = 'trigram'
);
INSERT INTO tickets_search (tickets_search) VALUES ('rebuild');

CREATE TRIGGER tickets_search_insert AFTER INSERT ON tickets BEGIN
    INSERT INTO tickets_search (rowid, title, description, project_name)
        VALUES (NEW.id, NEW.title, NEW.description, NEW.project_name);
END;
CREATE TRIGGER tickets_search_delete AFTER DELETE ON tickets BEGIN
    INSERT INTO tickets_search (tickets_search, rowid, title, description, project_name)
        VALUES ('delete', OLD.id, OLD.title, OLD.description, OLD.project_name);
END;
-- Every step writes every column; only a changed text is indexed again.
CREATE TRIGGER tickets_search_update AFTER UPDATE OF title, description, project_name ON tickets
    WHEN OLD.title IS NOT NEW.title OR OLD.description IS NOT NEW.description
         OR OLD.project_name IS NOT NEW.project_name
BEGIN
    INSERT INTO tickets_search (tickets_search, rowid, title, description, project_name)
        VALUES ('delete', OLD.id, OLD.title, OLD.description, OLD.project_name);
    INSERT INTO tickets_search (rowid, title, description, project_name)
        VALUES (NEW.id, NEW.title, NEW.description, NEW.project_name);
END;

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
