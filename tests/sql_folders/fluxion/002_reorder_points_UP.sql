-- Migration 002: reorder points per product and warehouse, seeded from the products
BEGIN;
CREATE TABLE reorder_points (
    warehouse_id BIGINT NOT NULL REFERENCES warehouses (id),
    product_id BIGINT NOT NULL REFERENCES products (id),
    minimum_quantity NUMERIC(12, 2) NOT NULL DEFAULT 0,
    PRIMARY KEY (warehouse_id, product_id)
);
INSERT INTO reorder_points (warehouse_id, product_id, minimum_quantity)
SELECT w.id, p.id, 10 FROM warehouses w CROSS JOIN products p;
COMMENT ON TABLE reorder_points IS 'Below this quantity a product is reordered';
INSERT INTO schema_migrations (version, name) VALUES ('002', 'reorder_points');
COMMIT;
