-- Each finished `incident import-django`: the fingerprint of the Django database it read, so a
-- re-run of the same source is recognised ("already imported") and changes nothing.
CREATE TABLE django_imports (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    fingerprint   VARCHAR(64) NOT NULL UNIQUE,
    source        VARCHAR(500) NOT NULL,
    rows_imported BIGINT NOT NULL,
    imported_at   DATETIME NOT NULL
);
