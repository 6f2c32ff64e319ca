-- Ledger entries are keyed by a neutral source reference: where the money fact came from
-- (source: 'stripe', or 'offline' for money a fundraiser collected and an admin verified)
-- and that source's own id for it (source_ref: a Stripe payment intent, invoice, charge or
-- dispute id, or the offline taking's id). Offline money used to pretend to be a Stripe
-- object ('offline_<id>').
ALTER TABLE ledger_entries RENAME COLUMN stripe_object TO source_ref;
ALTER TABLE ledger_entries ADD COLUMN source text NOT NULL DEFAULT 'stripe'
    CHECK (source IN ('stripe', 'offline'));

-- The entries themselves are immutable; this once, the offline ones are re-keyed.
ALTER TABLE ledger_entries DISABLE TRIGGER ledger_no_update;
UPDATE ledger_entries SET source = 'offline', source_ref = substr(source_ref, length('offline_') + 1)
WHERE source_ref LIKE 'offline\_%';
ALTER TABLE ledger_entries ENABLE TRIGGER ledger_no_update;

ALTER TABLE ledger_entries DROP CONSTRAINT ledger_entries_stripe_object_kind_seq_key;
ALTER TABLE ledger_entries ADD CONSTRAINT ledger_entries_source_key UNIQUE (source, source_ref, kind, seq);
ALTER TABLE ledger_entries ALTER COLUMN source DROP DEFAULT;

-- The summary's shard of an entry without a donation came from the old key; rebuild the
-- summary from the ledger (the same statement as 0004's backfill), so every row is where
-- the triggers will look for it.
DELETE FROM ledger_summary;
INSERT INTO ledger_summary (appeal_id, grain, starts, dim, dim_id, frequency, kind, shard,
    amount, fee, gift_aid_base, claimed, entries)
SELECT appeal_id, grain, starts, dim, dim_id, frequency, kind, shard,
       sum(amount), sum(fee), sum(gift_aid_base), sum(claimed), count(*)
FROM ledger_summary_source
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
