CREATE TABLE IF NOT EXISTS orders (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL REFERENCES users (id),
    status order_status NOT NULL DEFAULT 'pending',
    total_cents bigint NOT NULL CHECK (total_cents >= 0),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz
);

-- Every foreign key gets its index: joins, and deletes of users, need it.
CREATE INDEX IF NOT EXISTS orders_user_id_idx ON orders (user_id);

-- The open-orders screen reads live rows only.
CREATE INDEX IF NOT EXISTS orders_open_idx ON orders (created_at)
    WHERE deleted_at IS NULL AND status IN ('pending', 'paid');

CREATE OR REPLACE TRIGGER orders_set_updated_at
    BEFORE UPDATE ON orders
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
