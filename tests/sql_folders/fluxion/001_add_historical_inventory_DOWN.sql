BEGIN;
DROP VIEW IF EXISTS inventory_trend;
DROP TABLE IF EXISTS historical_inventory;
DELETE FROM schema_migrations WHERE version = '001';
COMMIT;
