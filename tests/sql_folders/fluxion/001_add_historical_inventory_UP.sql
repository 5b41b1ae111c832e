-- Migration 001: historical inventory, written for the old runner (own transaction and bookkeeping)
BEGIN;

CREATE TABLE historical_inventory (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    warehouse_id BIGINT NOT NULL REFERENCES warehouses (id),
    product_id BIGINT NOT NULL REFERENCES products (id),
    recorded_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    quantity NUMERIC(12, 2) NOT NULL,
    unit_cost NUMERIC(12, 2)
);

CREATE INDEX idx_historical_inventory_warehouse ON historical_inventory (warehouse_id);
CREATE INDEX idx_historical_inventory_product ON historical_inventory (product_id);
CREATE INDEX idx_historical_inventory_recorded_at ON historical_inventory (recorded_at);
CREATE INDEX idx_historical_inventory_wh_product_time ON historical_inventory (warehouse_id, product_id, recorded_at DESC);

COMMENT ON TABLE historical_inventory IS 'Stock level of each product in each warehouse over time';
COMMENT ON COLUMN historical_inventory.quantity IS 'Units on hand when recorded';

CREATE VIEW inventory_trend AS
SELECT warehouse_id, product_id, recorded_at, quantity,
       quantity - lag(quantity) OVER (PARTITION BY warehouse_id, product_id ORDER BY recorded_at) AS change
FROM historical_inventory;

INSERT INTO schema_migrations (version, name, checksum) VALUES ('001', 'add_historical_inventory', 'set-by-runner');

COMMIT;
