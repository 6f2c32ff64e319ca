-- The ledger and its totals (campaigns/ledger).

-- RecordEntry inserts a ledger entry and, only if it is new, adds it to the totals of its
-- appeal and of its fundraiser page, all in one statement: one round trip, and a duplicate
-- (same source reference, kind and seq) changes nothing at all. It returns the new entry's
-- id, 0 for a duplicate. The amounts after the entry's are its deltas to each total column.
-- name: RecordEntry :one
WITH entry AS (
    INSERT INTO ledger_entries (appeal_id, fundraiser_id, donation_id, kind, source, source_ref, seq,
        charge_id, amount, fee, gift_aid_base, frequency, donor_key, occurred_at, event_id, payment_intent)
    VALUES (@appeal_id, NULLIF(@fundraiser_id::bigint, 0), NULLIF(@donation_id::text, '')::uuid, @kind, @source, @source_ref, @seq,
        NULLIF(@charge_id::text, ''), @amount, @fee, @gift_aid_base,
        @frequency, @donor_key, @occurred_at, NULLIF(@event_id::text, ''), NULLIF(@payment_intent::text, ''))
    ON CONFLICT (source, source_ref, kind, seq) DO NOTHING
    RETURNING id
), scopes (scope, scope_id) AS (
    SELECT 'appeal', @appeal_id::bigint WHERE EXISTS (SELECT 1 FROM entry)
    UNION ALL
    SELECT 'fundraiser', @fundraiser_id::bigint WHERE @fundraiser_id::bigint <> 0 AND EXISTS (SELECT 1 FROM entry)
), new_donors AS (
    INSERT INTO total_donors (scope, scope_id, donor_key)
    SELECT scope, scope_id, @donor_key FROM scopes WHERE @kind = 'gift' AND @donor_key <> ''
    ON CONFLICT DO NOTHING
    RETURNING scope
), upd AS (
    INSERT INTO totals AS t (scope, scope_id, shard, gross, refunded, disputed, lost, fees,
        gift_aid_base, gifts, donors)
    SELECT s.scope, s.scope_id, @shard, @gross, @refunded, @disputed, @lost, @fees, @total_gift_aid_base, @gifts,
        (SELECT count(*) FROM new_donors d WHERE d.scope = s.scope)
    FROM scopes s
    ON CONFLICT (scope, scope_id, shard) DO UPDATE SET
        gross = t.gross + EXCLUDED.gross,
        refunded = t.refunded + EXCLUDED.refunded,
        disputed = t.disputed + EXCLUDED.disputed,
        lost = t.lost + EXCLUDED.lost,
        fees = t.fees + EXCLUDED.fees,
        gift_aid_base = t.gift_aid_base + EXCLUDED.gift_aid_base,
        gifts = t.gifts + EXCLUDED.gifts,
        donors = t.donors + EXCLUDED.donors
)
SELECT COALESCE((SELECT id FROM entry), 0)::bigint AS id;

-- ReadTotals sums the few shard rows of a scope ('appeal' or 'fundraiser'), with the Gift
-- Aid rate of the appeal (a fundraiser page's appeal's).
-- name: ReadTotals :one
SELECT COALESCE(sum(gross), 0)::numeric AS gross, COALESCE(sum(refunded), 0)::numeric AS refunded,
       COALESCE(sum(disputed), 0)::numeric AS disputed, COALESCE(sum(lost), 0)::numeric AS lost,
       COALESCE(sum(fees), 0)::numeric AS fees, COALESCE(sum(gift_aid_base), 0)::numeric AS gift_aid_base,
       COALESCE(sum(gifts), 0)::bigint AS gifts, COALESCE(sum(donors), 0)::bigint AS donors,
       COALESCE((SELECT a.gift_aid_rate FROM appeals a
         WHERE a.id = CASE WHEN @scope::text = 'appeal' THEN @scope_id::bigint
                           ELSE (SELECT f.appeal_id FROM fundraisers f WHERE f.id = @scope_id::bigint) END), 0)::numeric AS gift_aid_rate
FROM totals WHERE scope = @scope::text AND scope_id = @scope_id::bigint;

-- CompareTotals recomputes every total from the ledger alone and sets it beside the stored
-- one, each as the sums in the order of TotalFields (campaigns/ledger/replay.go).
-- name: CompareTotals :many
WITH ledger AS (
    SELECT scope, scope_id,
           COALESCE(sum(amount) FILTER (WHERE kind = 'gift'), 0)                              AS gross,
           COALESCE(-sum(amount) FILTER (WHERE kind = 'refund'), 0)                           AS refunded,
           COALESCE(-sum(amount) FILTER (WHERE kind IN ('dispute_hold', 'dispute_release')), 0) AS disputed,
           COALESCE(-sum(amount) FILTER (WHERE kind = 'dispute_lost'), 0)                     AS lost,
           COALESCE(sum(fee), 0)                                                              AS fees,
           COALESCE(sum(gift_aid_base), 0)                                                    AS gift_aid_base,
           count(*) FILTER (WHERE kind = 'gift')                                              AS gifts,
           count(DISTINCT donor_key) FILTER (WHERE kind = 'gift' AND donor_key <> '')         AS donors
    FROM (
        SELECT 'appeal' AS scope, appeal_id AS scope_id, * FROM ledger_entries
        UNION ALL
        SELECT 'fundraiser', fundraiser_id, * FROM ledger_entries WHERE fundraiser_id IS NOT NULL
    ) e
    GROUP BY scope, scope_id
), stored AS (
    SELECT scope, scope_id, sum(gross) AS gross, sum(refunded) AS refunded, sum(disputed) AS disputed,
           sum(lost) AS lost, sum(fees) AS fees, sum(gift_aid_base) AS gift_aid_base,
           sum(gifts) AS gifts, sum(donors) AS donors
    FROM totals GROUP BY scope, scope_id
)
SELECT COALESCE(l.scope, s.scope)::text AS scope, COALESCE(l.scope_id, s.scope_id)::bigint AS scope_id,
       ARRAY[COALESCE(s.gross, 0), COALESCE(s.refunded, 0), COALESCE(s.disputed, 0), COALESCE(s.lost, 0),
             COALESCE(s.fees, 0), COALESCE(s.gift_aid_base, 0), COALESCE(s.gifts, 0), COALESCE(s.donors, 0)]::numeric[] AS stored,
       ARRAY[COALESCE(l.gross, 0), COALESCE(l.refunded, 0), COALESCE(l.disputed, 0), COALESCE(l.lost, 0),
             COALESCE(l.fees, 0), COALESCE(l.gift_aid_base, 0), COALESCE(l.gifts, 0), COALESCE(l.donors, 0)]::numeric[] AS ledger
FROM ledger l FULL OUTER JOIN stored s ON l.scope = s.scope AND l.scope_id = s.scope_id
ORDER BY 1, 2;

-- StripeEntriesTouching (reconciliation) is every Stripe ledger entry touching a listed payment intent,
-- charge or object.
-- name: StripeEntriesTouching :many
SELECT kind, source_ref, COALESCE(charge_id, '')::text AS charge_id, COALESCE(payment_intent, '')::text AS payment_intent,
    amount, fee, occurred_at, appeal_id FROM ledger_entries
WHERE source = 'stripe'
  AND (payment_intent = ANY(@payment_intents::text[]) OR charge_id = ANY(@charges::text[]) OR source_ref = ANY(@objects::text[]));

-- StripeGiftsBetween is the Stripe gifts that occurred in [since, until) (offline money
-- is not Stripe's to confirm).
-- name: StripeGiftsBetween :many
SELECT kind, source_ref, COALESCE(charge_id, '')::text AS charge_id, COALESCE(payment_intent, '')::text AS payment_intent,
    amount, fee, occurred_at, appeal_id FROM ledger_entries
WHERE source = 'stripe' AND kind = 'gift' AND occurred_at >= @since::timestamptz AND occurred_at < @until::timestamptz ORDER BY occurred_at, id;

-- AllTotals sums each scope's totals over its shards, in the order of TotalFields
-- (campaigns/ledger/replay.go).
-- name: AllTotals :many
SELECT scope, scope_id, ARRAY[sum(gross), sum(refunded), sum(disputed), sum(lost),
    sum(fees), sum(gift_aid_base), sum(gifts), sum(donors)]::numeric[] AS sums FROM totals GROUP BY scope, scope_id;

-- Batches (payments/queue.go) write a ledger entry alone and add up what it moves; the
-- batch writes the totals, the distinct donors and the dashboard summary once, at its end,
-- in key order, so two batches never wait for each other's rows in a cycle.

-- SummaryByBatch tells the summary trigger (migration 0028) that this transaction writes
-- the summary rows of its entries itself (AddSummary).
-- name: SummaryByBatch :exec
SELECT set_config('giving.summary_by_batch', 'on', true);

-- InsertEntries inserts ledger entries (a batch's: one element of each array per entry)
-- and nothing else, and returns the key of each new one with its id: an entry not returned
-- is a duplicate (same source reference, kind and seq) of one stored, or of one before it in
-- the arrays.
-- name: InsertEntries :many
INSERT INTO ledger_entries (appeal_id, fundraiser_id, donation_id, kind, source, source_ref, seq,
    charge_id, amount, fee, gift_aid_base, frequency, donor_key, occurred_at, event_id, payment_intent)
SELECT u.appeal_id, NULLIF(u.fundraiser_id, 0), NULLIF(u.donation_id, '')::uuid, u.kind, u.source, u.source_ref, u.seq,
    NULLIF(u.charge_id, ''), u.amount, u.fee, u.gift_aid_base, u.frequency, u.donor_key, u.occurred_at,
    NULLIF(u.event_id, ''), NULLIF(u.payment_intent, '')
-- The arrays unnested side by side: a subscript (kinds[i]) walks a text array
-- from its start, so reading every element that way costs the square of the batch.
FROM ROWS FROM (unnest(@appeal_ids::bigint[]), unnest(@fundraiser_ids::bigint[]), unnest(@donation_ids::text[]),
        unnest(@kinds::text[]), unnest(@sources::text[]), unnest(@source_refs::text[]), unnest(@seqs::text[]),
        unnest(@charge_ids::text[]), unnest(@amounts::numeric[]), unnest(@fees::numeric[]),
        unnest(@gift_aid_bases::numeric[]), unnest(@frequencies::text[]), unnest(@donor_keys::text[]),
        unnest(sqlc.arg(occurred_ats)::timestamptz[]), unnest(@event_ids::text[]),
        unnest(@payment_intents::text[]))
    WITH ORDINALITY AS u (appeal_id, fundraiser_id, donation_id, kind, source, source_ref, seq, charge_id, amount, fee,
        gift_aid_base, frequency, donor_key, occurred_at, event_id, payment_intent, i)
ORDER BY u.i
ON CONFLICT (source, source_ref, kind, seq) DO NOTHING
RETURNING id, source, source_ref, kind, seq;

-- AddTotals adds a batch's sums to the totals rows, given sorted by (scope, scope_id, shard),
-- after counting its donors new to each scope (given sorted by scope, scope_id, key), in
-- that order: the new donors of a scope are added to its row flagged donors_here.
-- name: AddTotals :exec
WITH new_donors AS (
    INSERT INTO total_donors (scope, scope_id, donor_key)
    SELECT u.scope, u.scope_id, u.donor_key
    FROM ROWS FROM (unnest(@donor_scopes::text[]), unnest(@donor_scope_ids::bigint[]),
            unnest(@donor_keys::text[])) WITH ORDINALITY AS u (scope, scope_id, donor_key, i)
    ORDER BY u.i
    ON CONFLICT DO NOTHING
    RETURNING scope, scope_id
), counts AS (
    SELECT scope, scope_id, count(*) AS n FROM new_donors GROUP BY scope, scope_id
)
INSERT INTO totals AS t (scope, scope_id, shard, gross, refunded, disputed, lost, fees, gift_aid_base, gifts, donors)
SELECT r.scope, r.scope_id, r.shard, r.gross, r.refunded, r.disputed, r.lost, r.fees, r.gift_aid_base, r.gifts,
    CASE WHEN r.donors_here THEN COALESCE((SELECT c.n FROM counts c WHERE c.scope = r.scope AND c.scope_id = r.scope_id), 0) ELSE 0 END
FROM ROWS FROM (unnest(@scopes::text[]), unnest(@scope_ids::bigint[]), unnest(@shards::smallint[]),
        unnest(@gross::numeric[]), unnest(@refunded::numeric[]), unnest(@disputed::numeric[]),
        unnest(@lost::numeric[]), unnest(@fees::numeric[]), unnest(@gift_aid_bases::numeric[]),
        unnest(@gifts::bigint[]), unnest(@donors_here::boolean[]))
    WITH ORDINALITY AS r (scope, scope_id, shard, gross, refunded, disputed, lost, fees, gift_aid_base, gifts, donors_here, i)
ORDER BY r.i
ON CONFLICT (scope, scope_id, shard) DO UPDATE SET
    gross = t.gross + EXCLUDED.gross,
    refunded = t.refunded + EXCLUDED.refunded,
    disputed = t.disputed + EXCLUDED.disputed,
    lost = t.lost + EXCLUDED.lost,
    fees = t.fees + EXCLUDED.fees,
    gift_aid_base = t.gift_aid_base + EXCLUDED.gift_aid_base,
    gifts = t.gifts + EXCLUDED.gifts,
    donors = t.donors + EXCLUDED.donors;

-- AddSummary adds a batch's entries to the dashboard summary (migration 0004), in key order.
-- name: AddSummary :exec
INSERT INTO ledger_summary AS s (appeal_id, grain, starts, dim, dim_id, frequency, kind, shard,
    amount, fee, gift_aid_base, claimed, entries)
SELECT v.appeal_id, v.grain, v.starts, v.dim, v.dim_id, v.frequency, v.kind, v.shard,
       sum(v.amount), sum(v.fee), sum(v.gift_aid_base), sum(v.claimed), count(*)
FROM ledger_summary_source v
WHERE v.entry_id = ANY(@entry_ids::bigint[])
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
ORDER BY 1, 2, 3, 4, 5, 6, 7, 8
ON CONFLICT (appeal_id, grain, starts, dim, dim_id, frequency, kind, shard) DO UPDATE SET
    amount = s.amount + EXCLUDED.amount,
    fee = s.fee + EXCLUDED.fee,
    gift_aid_base = s.gift_aid_base + EXCLUDED.gift_aid_base,
    claimed = s.claimed + EXCLUDED.claimed,
    entries = s.entries + EXCLUDED.entries;
