-- Annual statements (campaigns/donors/statement.go): after each UK tax year (6 April to
-- 5 April) every donor with gifts in it is emailed her statement once. A row here is
-- written in the transaction that queues that email, so a job run twice, or by two
-- instances, writes to her once. It holds ids only, no personal data.
CREATE TABLE statement_mails (
    donor_id  uuid NOT NULL REFERENCES donors (id),
    -- The tax year by the calendar year it starts in: 2025 is 6 April 2025 to 5 April 2026.
    tax_year  integer NOT NULL CHECK (tax_year BETWEEN 2000 AND 2200),
    queued_at timestamptz NOT NULL,
    PRIMARY KEY (donor_id, tax_year)
);
