-- A donation's entries in time order: the trustee dashboard's monthly giving health reads
-- each monthly gift's first payment (the first of its entries), which ledger_donation alone
-- answered by fetching and sorting every payment of every monthly gift. The new index
-- answers every lookup by donation the old one did, so it replaces it (no more index to
-- keep up on each entry than before).
CREATE INDEX ledger_donation_time ON ledger_entries (donation_id, occurred_at) INCLUDE (kind);
DROP INDEX ledger_donation;
