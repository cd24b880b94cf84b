DROP TABLE IF EXISTS order_status_help;
