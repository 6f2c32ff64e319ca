-- What each Gift Aid claim asked HMRC for, kept with the claim, so HMRC's repayment can be
-- set against it: the tax on the claim's gifts (rounded down once) and the adjustments for
-- refunds of earlier claims it carried. The claim asked for tax - adjustment_total.
ALTER TABLE gift_aid_claims
    ADD COLUMN tax              numeric(12,2) NOT NULL DEFAULT 0,
    ADD COLUMN adjustment_total numeric(12,2) NOT NULL DEFAULT 0;

-- Claims made before this migration: the tax worked out again from the entries the claim
-- locked (its gifts net of the refunds and lost disputes netted from them) at each appeal's
-- Gift Aid rate, and the adjustments attached to it.
UPDATE gift_aid_claims c SET
    tax = COALESCE((
        SELECT floor(sum(s.net * s.rate) * 100) / 100
        FROM (SELECT sum(e.amount) AS net, a.gift_aid_rate AS rate
              FROM gift_aid_claim_items i
              JOIN ledger_entries e ON e.id = i.ledger_entry_id
              JOIN appeals a ON a.id = e.appeal_id
              WHERE i.claim_id = c.id AND e.kind IN ('gift', 'refund', 'dispute_lost')
              GROUP BY e.appeal_id, a.gift_aid_rate) s), 0),
    adjustment_total = COALESCE((SELECT sum(x.tax_amount) FROM gift_aid_adjustments x WHERE x.claim_id = c.id), 0);
