-- The trustee dashboard's summary of the ledger: the ledger's sums by London day and by
-- London month, kept current by triggers in the same transaction as each entry, so that a
-- dashboard for any period reads a few thousand summary rows whatever the size of the
-- ledger, and is exactly as right as the ledger.
--
-- Each entry adds to two "dimensions": its tier (0 for a typed amount or no donation),
-- which summed over tiers gives the appeal's figures, and its fundraiser page when it has
-- one. Keeping the two apart (rather than a tier x page cross product) keeps reads small.
-- Each dimension is kept at two grains: months answer whole months cheaply, days answer
-- the edges of a period that does not start or end on the first of a month.
-- Rows are striped over 8 shards, as totals are, so concurrent webhooks for the same tier
-- on the same day do not queue on one row lock; a read sums every shard.

CREATE TABLE ledger_summary (
    appeal_id     bigint NOT NULL REFERENCES appeals (id),
    grain         text NOT NULL CHECK (grain IN ('day', 'month')),
    starts        date NOT NULL, -- the London day, or the first day of the London month
    dim           text NOT NULL CHECK (dim IN ('tier', 'fundraiser')),
    dim_id        bigint NOT NULL, -- tiers.id (0: no tier) or fundraisers.id
    frequency     text NOT NULL CHECK (frequency IN ('one_off', 'monthly')),
    kind          text NOT NULL,
    shard         smallint NOT NULL CHECK (shard >= 0 AND shard < 8),
    amount        numeric(14,2) NOT NULL DEFAULT 0,
    fee           numeric(14,2) NOT NULL DEFAULT 0,
    gift_aid_base numeric(14,2) NOT NULL DEFAULT 0,
    -- the amount of the entries already included in a Gift Aid claim
    claimed       numeric(14,2) NOT NULL DEFAULT 0,
    entries       bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (appeal_id, grain, starts, dim, dim_id, frequency, kind, shard)
);

-- What each ledger entry contributes to the summary: the one definition the triggers, the
-- backfill below and the comparison with the ledger all use.
CREATE VIEW ledger_summary_source AS
SELECT e.id AS entry_id, e.appeal_id, g.grain, g.starts, x.dim, x.dim_id, e.frequency, e.kind,
       (hashtext(COALESCE(e.donation_id::text, e.stripe_object)) & 7)::smallint AS shard, -- one donation, one shard: no lock-order deadlocks
       e.amount, e.fee, e.gift_aid_base,
       CASE WHEN c.ledger_entry_id IS NULL THEN 0 ELSE e.amount END AS claimed
FROM ledger_entries e
LEFT JOIN donations d ON d.id = e.donation_id
LEFT JOIN gift_aid_claim_items c ON c.ledger_entry_id = e.id
CROSS JOIN LATERAL (SELECT (e.occurred_at AT TIME ZONE 'Europe/London')::date AS day) l
CROSS JOIN LATERAL (VALUES ('day', l.day), ('month', date_trunc('month', l.day)::date)) g (grain, starts)
CROSS JOIN LATERAL (VALUES ('tier', COALESCE(d.tier_id, 0)), ('fundraiser', e.fundraiser_id)) x (dim, dim_id)
WHERE x.dim_id IS NOT NULL;

-- Statement-level triggers with transition tables: one grouped upsert per statement, so a
-- single webhook's entry and a bulk import both cost one summary statement.
CREATE FUNCTION ledger_summary_add_entries() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO ledger_summary AS s (appeal_id, grain, starts, dim, dim_id, frequency, kind, shard,
        amount, fee, gift_aid_base, claimed, entries)
    SELECT v.appeal_id, v.grain, v.starts, v.dim, v.dim_id, v.frequency, v.kind, v.shard,
           sum(v.amount), sum(v.fee), sum(v.gift_aid_base), sum(v.claimed), count(*)
    FROM ledger_summary_source v
    WHERE v.entry_id IN (SELECT id FROM new_entries)
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
    ON CONFLICT (appeal_id, grain, starts, dim, dim_id, frequency, kind, shard) DO UPDATE SET
        amount = s.amount + EXCLUDED.amount,
        fee = s.fee + EXCLUDED.fee,
        gift_aid_base = s.gift_aid_base + EXCLUDED.gift_aid_base,
        claimed = s.claimed + EXCLUDED.claimed,
        entries = s.entries + EXCLUDED.entries;
    RETURN NULL;
END $$;
CREATE TRIGGER ledger_summary_add AFTER INSERT ON ledger_entries
    REFERENCING NEW TABLE AS new_entries
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_summary_add_entries();

-- A claim item moves its entry's amount into "claimed"; removing one moves it back.
CREATE FUNCTION ledger_summary_claim_items() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    direction integer := CASE WHEN TG_OP = 'INSERT' THEN 1 ELSE -1 END;
BEGIN
    INSERT INTO ledger_summary AS s (appeal_id, grain, starts, dim, dim_id, frequency, kind, shard, claimed)
    SELECT v.appeal_id, v.grain, v.starts, v.dim, v.dim_id, v.frequency, v.kind, v.shard, direction * sum(v.amount)
    FROM ledger_summary_source v
    WHERE v.entry_id IN (SELECT ledger_entry_id FROM changed_items)
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
    ON CONFLICT (appeal_id, grain, starts, dim, dim_id, frequency, kind, shard) DO UPDATE SET
        claimed = s.claimed + EXCLUDED.claimed;
    RETURN NULL;
END $$;
CREATE TRIGGER ledger_summary_claimed AFTER INSERT ON gift_aid_claim_items
    REFERENCING NEW TABLE AS changed_items
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_summary_claim_items();
CREATE TRIGGER ledger_summary_unclaimed AFTER DELETE ON gift_aid_claim_items
    REFERENCING OLD TABLE AS changed_items
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_summary_claim_items();

-- Backfill from the ledger already recorded.
INSERT INTO ledger_summary (appeal_id, grain, starts, dim, dim_id, frequency, kind, shard,
    amount, fee, gift_aid_base, claimed, entries)
SELECT appeal_id, grain, starts, dim, dim_id, frequency, kind, shard,
       sum(amount), sum(fee), sum(gift_aid_base), sum(claimed), count(*)
FROM ledger_summary_source
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;

-- The dashboard's live queries on donations: monthly donors by status, and money flagged
-- for review.
CREATE INDEX donations_monthly_status ON donations (appeal_id, status) INCLUDE (amount, cover_fee)
    WHERE frequency = 'monthly';
CREATE INDEX donations_unmatched ON donations (appeal_id) WHERE unmatched;
