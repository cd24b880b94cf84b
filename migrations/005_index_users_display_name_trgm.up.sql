-- Fuzzy search on names. users is big in production: build the index without blocking
-- writes. sqlmig runs CONCURRENTLY statements outside a transaction by itself; if the build
-- fails, the next run drops the INVALID index it left and builds it again.
CREATE INDEX CONCURRENTLY IF NOT EXISTS users_display_name_trgm_idx
    ON users USING gin (display_name gin_trgm_ops);
