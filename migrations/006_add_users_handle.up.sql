-- A public handle, filled in for existing users from their address.
ALTER TABLE users ADD COLUMN IF NOT EXISTS handle text;

UPDATE users
SET handle = lower(split_part(email, '@', 1))
WHERE handle IS NULL;

COMMENT ON COLUMN users.handle IS 'public name shown in URLs; backfilled from email';
