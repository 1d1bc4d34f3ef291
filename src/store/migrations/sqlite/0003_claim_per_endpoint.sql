-- Claims look up each endpoint's earliest due deliveries.
CREATE INDEX deliveries_endpoint_due ON deliveries (endpoint_id, due_at) WHERE status = 'pending';
