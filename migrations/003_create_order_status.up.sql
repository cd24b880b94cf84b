-- CREATE TYPE has no IF NOT EXISTS: guard it so a re-run after a failure is harmless.
DO $$
BEGIN
    CREATE TYPE order_status AS ENUM ('pending', 'paid', 'shipped', 'cancelled');
EXCEPTION
    WHEN duplicate_object THEN NULL;
END
$$;
