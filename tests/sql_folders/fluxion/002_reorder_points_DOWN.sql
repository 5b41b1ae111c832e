BEGIN;
DROP TABLE reorder_points;
DELETE FROM schema_migrations WHERE version = '002';
COMMIT;
