-- Donor data duties: a donor may ask for their personal data to be erased, but HMRC needs
-- a Gift Aid declaration's name and address for 6 years after the end of the accounting
-- period (the tax year ending 5 April) of the last gift it covers. Such a declaration is
-- kept, marked with when erasure was asked for, and erased once the 6 years have passed
-- ('giving donor erase-due'). Amounts, statuses and Stripe ids are never erased: they are
-- the charity's accounts, not the donor's personal data.

ALTER TABLE gift_aid_declarations ADD COLUMN erasure_requested_at timestamptz;
ALTER TABLE gift_aid_declarations ADD COLUMN erased_at timestamptz;
CREATE INDEX gift_aid_declarations_erasure_due ON gift_aid_declarations (erasure_requested_at)
    WHERE erasure_requested_at IS NOT NULL AND erased_at IS NULL;

-- When a donation's personal data (email, display name, message) was erased.
ALTER TABLE donations ADD COLUMN erased_at timestamptz;

-- Finding everything held about one donor by email, whatever case it was typed in.
CREATE INDEX donations_email_lower ON donations (lower(btrim(email))) WHERE email <> '';
CREATE INDEX donations_customer ON donations (customer_id) WHERE customer_id IS NOT NULL;
