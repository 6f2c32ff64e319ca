-- What admins change and review (campaigns/appeals/edit.go, campaigns/pages, campaigns/donations/unmatched.go).

-- name: UpdateAppeal :exec
UPDATE appeals SET name = @name, summary = @summary, story = @story, target = @target,
    surplus_statement = @surplus_statement, fund_code = @fund_code, fund_restricted = @fund_restricted WHERE id = @id;

-- name: InsertTier :execresult
INSERT INTO tiers (appeal_id, amount, title, impact, active, position)
VALUES (@appeal_id, @amount, @title, @impact, @active, 0);

-- name: UpdateTier :execresult
UPDATE tiers SET amount = @amount, title = @title, impact = @impact, active = @active
WHERE id = @id AND appeal_id = @appeal_id;

-- name: SetFundraiserStatus :execresult
UPDATE fundraisers SET status = @status WHERE id = @id;

-- UnmatchedGifts lists unmatched money not yet reviewed, newest first.
-- name: UnmatchedGifts :many
SELECT d.id::text AS donation_id, d.created_at, a.name AS appeal, COALESCE(f.title, '')::text AS fundraiser,
    COALESCE((SELECT sum(e.amount) FROM ledger_entries e WHERE e.donation_id = d.id), 0)::numeric AS amount,
    d.frequency = 'monthly' AS monthly, COALESCE(d.payment_intent_id, d.subscription_id, '')::text AS reference
FROM donations d JOIN appeals a ON a.id = d.appeal_id LEFT JOIN fundraisers f ON f.id = d.fundraiser_id
WHERE d.unmatched AND d.reviewed_at IS NULL ORDER BY d.created_at DESC LIMIT sqlc.arg(max_rows)::bigint;

-- name: ResolveUnmatched :execresult
UPDATE donations SET reviewed_at = now(), reviewed_by = @reviewed_by, review_note = @review_note
WHERE id = sqlc.arg(id)::uuid AND unmatched AND reviewed_at IS NULL;

-- AllTiers lists an appeal's tiers, active or not, cheapest first.
-- name: AllTiers :many
SELECT id, amount, title, impact, position, active FROM tiers WHERE appeal_id = @appeal_id ORDER BY amount;
