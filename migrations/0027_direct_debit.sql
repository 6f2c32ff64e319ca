-- Direct Debit (Bacs) beside card. A donation remembers the way the donor chose to pay on
-- the donate form ('' for donations made before the choice existed, or money Stripe
-- reported for a session made elsewhere), so the thank-you page, the sandbox and the
-- "cover the fee" offer know it before Stripe says anything.
ALTER TABLE donations
    ADD COLUMN payment_method text NOT NULL DEFAULT ''
        CHECK (payment_method IN ('', 'card', 'bacs_debit'));

-- Trustees' "processing" figure: donations whose Direct Debit is set up and whose money
-- has not yet arrived.
CREATE INDEX donations_processing ON donations (appeal_id) WHERE status = 'processing';

-- The ways donors may pay, as admins set them in /admin: one row. Card is always offered;
-- Direct Debit for monthly gifts is on by default, for one-off gifts off.
CREATE TABLE payment_settings (
    id                   boolean PRIMARY KEY DEFAULT true CHECK (id),
    direct_debit_monthly boolean NOT NULL DEFAULT true,
    direct_debit_one_off boolean NOT NULL DEFAULT false,
    updated_at           timestamptz NOT NULL DEFAULT now()
);
INSERT INTO payment_settings (id) VALUES (true);

-- The donor is told once that her Direct Debit is set up and when the first payment is
-- collected (a one-off gift's; a monthly gift's set-up confirmation says it instead).
ALTER TABLE donor_mail_facts DROP CONSTRAINT donor_mail_facts_kind_check;
ALTER TABLE donor_mail_facts ADD CONSTRAINT donor_mail_facts_kind_check
    CHECK (kind IN ('receipt', 'monthly_set_up', 'payment_failed', 'monthly_ended', 'gift_aid_declared',
                    'direct_debit_set_up'));
