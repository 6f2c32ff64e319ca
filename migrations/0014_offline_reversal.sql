-- Offline money verified by mistake (the wrong amount, a cheque that bounced) is reversed,
-- never deleted: the ledger keeps the gift and gains a refund entry of the same amount, so
-- every total moves back while the history stays. The taking records who reversed it,
-- when and why.
ALTER TABLE offline_takings DROP CONSTRAINT offline_takings_status_check;
ALTER TABLE offline_takings ADD CONSTRAINT offline_takings_status_check
    CHECK (status IN ('pending', 'verified', 'rejected', 'reversed'));
ALTER TABLE offline_takings
    ADD COLUMN reversed_by bigint REFERENCES users (id),
    ADD COLUMN reversed_at timestamptz,
    ADD COLUMN reversal_reason text NOT NULL DEFAULT '' CHECK (length(reversal_reason) <= 500),
    ADD CONSTRAINT offline_takings_reversal_check CHECK ((status = 'reversed') = (reversed_at IS NOT NULL));
