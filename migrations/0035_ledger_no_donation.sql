-- The trustee dashboard counts the period's money that came with no donation at all (rare:
-- Stripe money this service did not set up). Found through ledger_donation's NULLs alone,
-- a generic plan (a prepared statement's, after its fifth run) would AND them with the
-- appeal's whole period from ledger_appeal, a read that grows with the ledger (4.7 ms at
-- 100,000 gifts). This index holds only those few entries, by appeal and time.
CREATE INDEX ledger_no_donation ON ledger_entries (appeal_id, occurred_at) WHERE donation_id IS NULL;
