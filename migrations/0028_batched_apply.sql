-- Webhook events are applied in batches, one transaction per batch (payments/queue.go).
-- Two batches must never deadlock, so every row a batch adds to is locked in one fixed
-- order: the batch writes its totals and its dashboard summary rows once, at its end,
-- each sorted by key. The summary trigger therefore stands aside in a transaction that
-- says it will write the summary itself (the setting giving.summary_by_batch, local to the
-- transaction), and otherwise writes its rows in key order too, so a lone event's
-- transaction takes them in the same order as any batch.
CREATE OR REPLACE FUNCTION ledger_summary_add_entries() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('giving.summary_by_batch', true) = 'on' THEN
        RETURN NULL;
    END IF;
    INSERT INTO ledger_summary AS s (appeal_id, grain, starts, dim, dim_id, frequency, kind, shard,
        amount, fee, gift_aid_base, claimed, entries)
    SELECT v.appeal_id, v.grain, v.starts, v.dim, v.dim_id, v.frequency, v.kind, v.shard,
           sum(v.amount), sum(v.fee), sum(v.gift_aid_base), sum(v.claimed), count(*)
    FROM ledger_summary_source v
    WHERE v.entry_id IN (SELECT id FROM new_entries)
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
    ORDER BY 1, 2, 3, 4, 5, 6, 7, 8
    ON CONFLICT (appeal_id, grain, starts, dim, dim_id, frequency, kind, shard) DO UPDATE SET
        amount = s.amount + EXCLUDED.amount,
        fee = s.fee + EXCLUDED.fee,
        gift_aid_base = s.gift_aid_base + EXCLUDED.gift_aid_base,
        claimed = s.claimed + EXCLUDED.claimed,
        entries = s.entries + EXCLUDED.entries;
    RETURN NULL;
END $$;
