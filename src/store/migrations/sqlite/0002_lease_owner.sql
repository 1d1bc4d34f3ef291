-- The process holding a delivery in memory; renewals touch only its own leases.
ALTER TABLE deliveries ADD COLUMN lease_owner TEXT;
