DROP TRIGGER IF EXISTS orders_set_updated_at ON orders;
DROP INDEX IF EXISTS orders_open_idx;
DROP INDEX IF EXISTS orders_user_id_idx;
DROP TABLE IF EXISTS orders;
