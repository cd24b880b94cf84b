-- Trigram matching, for the fuzzy user search index of 005.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
