-- Succeeded deliveries, most of them, leave the status indexes (see store::filter's
-- NOT_SUCCEEDED): a delivery that succeeds then removes its entries instead of moving them.
DROP INDEX deliveries_status;
CREATE INDEX deliveries_status ON deliveries (app_id, status, id)
    WHERE status <> 'succeeded';
DROP INDEX deliveries_endpoint_status;
CREATE INDEX deliveries_endpoint_status ON deliveries (endpoint_id, status, id)
    WHERE status <> 'succeeded';
