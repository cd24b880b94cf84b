-- Reference data the support tool shows next to each status.
CREATE TABLE IF NOT EXISTS order_status_help (
    status order_status PRIMARY KEY,
    description text NOT NULL
);

INSERT INTO order_status_help (status, description) VALUES
    ('pending', 'Waiting for payment'),
    ('paid', 'Paid; not yet shipped'),
    ('shipped', 'Handed to the carrier'),
    ('cancelled', 'Cancelled by the customer or by support')
ON CONFLICT (status) DO UPDATE SET description = EXCLUDED.description;
