-- Stripe payouts broken into the balance transactions they paid out (charges, refunds,
-- disputes, fees), each matched where it can be to the ledger; and the Gift Aid HMRC
-- repaid against a claim. Both are records of what happened: rows are only ever added.

CREATE TABLE payouts (
    id           text PRIMARY KEY,              -- Stripe's po_..., or po_sandbox_... in the sandbox
    amount       numeric(12,2) NOT NULL,        -- what reached the bank
    arrival_date date NOT NULL,                 -- the day the bank received it (London)
    status       text NOT NULL,
    sandbox      boolean NOT NULL DEFAULT false,
    recorded_at  timestamptz NOT NULL
);
CREATE INDEX payouts_arrival ON payouts (arrival_date);

CREATE TABLE payout_lines (
    txn_id       text PRIMARY KEY,              -- Stripe's balance transaction txn_...
    payout_id    text NOT NULL REFERENCES payouts (id),
    type         text NOT NULL CHECK (type IN ('charge', 'refund', 'dispute', 'fee', 'other')),
    source_ref   text NOT NULL DEFAULT '',      -- the ch_, re_, du_ ... it moved money for
    charge_id    text NOT NULL DEFAULT '',      -- the charge behind it, matched to the ledger
    -- The sandbox pays out its own ledger entries: the entry each line came from.
    ledger_entry_id bigint UNIQUE REFERENCES ledger_entries (id),
    description  text NOT NULL DEFAULT '',
    amount       numeric(12,2) NOT NULL,        -- gross, signed
    fee          numeric(12,2) NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL
);
CREATE INDEX payout_lines_payout ON payout_lines (payout_id);
CREATE INDEX payout_lines_charge ON payout_lines (charge_id) WHERE charge_id <> '';

CREATE TABLE gift_aid_repayments (
    claim_id    bigint PRIMARY KEY REFERENCES gift_aid_claims (id),
    paid_on     date NOT NULL,
    amount      numeric(12,2) NOT NULL CHECK (amount > 0),
    recorded_by text NOT NULL,
    recorded_at timestamptz NOT NULL
);

-- The dashboard's monthly-giving health counts failed payments by month from the stored
-- invoice.payment_failed events (few): found through this index, never by a scan.
CREATE INDEX stripe_events_invoice_failed ON stripe_events (created) WHERE type = 'invoice.payment_failed';
