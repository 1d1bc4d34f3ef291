-- Fenced leases: every claim, resend and take-over of a delivery starts a new lease epoch,
-- and a holder's outcome, renewal or release counts only with the current one. An attempt
-- made under a lapsed lease is still logged (the request went out), marked as such.
ALTER TABLE deliveries ADD COLUMN lease_epoch INTEGER NOT NULL DEFAULT 0;
ALTER TABLE attempts ADD COLUMN lapsed_lease INTEGER NOT NULL DEFAULT 0;
