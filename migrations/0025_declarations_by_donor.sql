-- Gift Aid declarations belong to the donor (campaigns/giftaid/doc.go states the rule): a
-- declaration "this and future" or "this, future and the past four years" covers every gift
-- of its donor from effective_from until cancelled_at, whatever donation carried it; "this
-- gift" covers only the donation that links to it (donations.gift_aid_declaration_id).
ALTER TABLE gift_aid_declarations ADD COLUMN donor_id uuid REFERENCES donors (id);
ALTER TABLE gift_aid_declarations ADD COLUMN effective_from timestamptz;
-- Who cancelled it, and why ('' before this migration); cancelled_at is the date it stops.
ALTER TABLE gift_aid_declarations ADD COLUMN cancelled_by text NOT NULL DEFAULT '';
ALTER TABLE gift_aid_declarations ADD COLUMN cancel_reason text NOT NULL DEFAULT ''
    CHECK (char_length(cancel_reason) <= 500);

-- Backfill: the donor through the declaration's donation; the past four years counted in
-- London, as the charity's accounting periods are.
UPDATE gift_aid_declarations g SET donor_id = d.donor_id
FROM donations d WHERE d.gift_aid_declaration_id = g.id AND d.donor_id IS NOT NULL;
UPDATE gift_aid_declarations SET effective_from = CASE WHEN scope = 'this_future_and_past'
    THEN ((declared_at AT TIME ZONE 'Europe/London') - interval '4 years') AT TIME ZONE 'Europe/London'
    ELSE declared_at END;
ALTER TABLE gift_aid_declarations ALTER COLUMN effective_from SET NOT NULL;

-- A new declaration's donor is its donation's (a donation learns its donor from its email,
-- migrations/0021, often only when Stripe reports it), so no path that links a declaration
-- can forget it. UPDATE OF lists email: a column set by a BEFORE trigger (donor_id, from the
-- email) does not fire a column trigger on its own.
CREATE FUNCTION declarations_link_donor() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.gift_aid_declaration_id IS NOT NULL AND NEW.donor_id IS NOT NULL THEN
        UPDATE gift_aid_declarations SET donor_id = NEW.donor_id
        WHERE id = NEW.gift_aid_declaration_id AND donor_id IS NULL;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER donations_declaration_donor AFTER INSERT OR UPDATE OF email, donor_id, gift_aid_declaration_id ON donations
    FOR EACH ROW EXECUTE FUNCTION declarations_link_donor();

CREATE INDEX gift_aid_declarations_donor ON gift_aid_declarations (donor_id) WHERE donor_id IS NOT NULL;

-- The donor is sent a confirmation of each declaration she makes, once, when its donation is
-- first paid (campaigns/donations/receipts.go): its fact is the donation's one declaration.
ALTER TABLE donor_mail_facts DROP CONSTRAINT donor_mail_facts_kind_check;
ALTER TABLE donor_mail_facts ADD CONSTRAINT donor_mail_facts_kind_check
    CHECK (kind IN ('receipt', 'monthly_set_up', 'payment_failed', 'monthly_ended', 'gift_aid_declared'));
-- Declarations of donations already paid were never confirmed, and must not be now (a later
-- monthly payment would otherwise send one): they count as confirmed.
INSERT INTO donor_mail_facts (donation_id, kind, fact, occurred_at)
SELECT id, 'gift_aid_declared', 'declaration', updated_at FROM donations
WHERE gift_aid_declaration_id IS NOT NULL AND status NOT IN ('pending', 'processing');
