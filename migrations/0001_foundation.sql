-- Foundation: appeals, tiers, fundraiser pages, donations (a donor's intent), Gift Aid
-- declarations, the immutable gift ledger, stored Stripe events and the totals derived from
-- the ledger. Money is numeric(12,2) everywhere; the ledger is the truth.

CREATE TABLE appeals (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug          text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    name          text NOT NULL,
    summary       text NOT NULL DEFAULT '',
    story         text NOT NULL DEFAULT '',
    currency      text NOT NULL DEFAULT 'GBP' CHECK (currency = 'GBP'),
    target        numeric(12,2) NOT NULL CHECK (target >= 0),
    -- Basic-rate Gift Aid as data: 0.25 (20/80) today, 0.2821 under the old 22% rate.
    gift_aid_rate numeric(6,4) NOT NULL DEFAULT 0.25 CHECK (gift_aid_rate >= 0 AND gift_aid_rate < 1),
    is_default    boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now()
);
-- At most one appeal receives money Stripe reports without a campaign we know.
CREATE UNIQUE INDEX appeals_one_default ON appeals (is_default) WHERE is_default;

CREATE TABLE tiers (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    appeal_id bigint NOT NULL REFERENCES appeals (id),
    amount    numeric(12,2) NOT NULL CHECK (amount > 0),
    title     text NOT NULL,
    impact    text NOT NULL,
    position  integer NOT NULL DEFAULT 0,
    active    boolean NOT NULL DEFAULT true,
    UNIQUE (appeal_id, amount)
);

CREATE TABLE fundraisers (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    appeal_id  bigint NOT NULL REFERENCES appeals (id),
    slug       text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    title      text NOT NULL,
    story      text NOT NULL DEFAULT '',
    target     numeric(12,2) NOT NULL DEFAULT 0 CHECK (target >= 0),
    status     text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'hidden')),
    created_at timestamptz NOT NULL DEFAULT now()
);

-- A Gift Aid declaration keeps the exact wording the donor saw (a versioned snapshot).
CREATE TABLE gift_aid_declarations (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    title           text NOT NULL DEFAULT '',
    first_name      text NOT NULL,
    last_name       text NOT NULL,
    house           text NOT NULL,
    postcode        text NOT NULL,
    scope           text NOT NULL CHECK (scope IN ('this', 'this_and_future', 'this_future_and_past')),
    wording_version text NOT NULL,
    wording         text NOT NULL,
    declared_at     timestamptz NOT NULL DEFAULT now(),
    cancelled_at    timestamptz
);

CREATE TABLE donations (
    id                      uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    appeal_id               bigint NOT NULL REFERENCES appeals (id),
    fundraiser_id           bigint REFERENCES fundraisers (id),
    tier_id                 bigint REFERENCES tiers (id),
    amount                  numeric(12,2) NOT NULL CHECK (amount > 0),
    cover_fee               numeric(12,2) NOT NULL DEFAULT 0 CHECK (cover_fee >= 0),
    currency                text NOT NULL DEFAULT 'GBP' CHECK (currency = 'GBP'),
    frequency               text NOT NULL CHECK (frequency IN ('one_off', 'monthly')),
    status                  text NOT NULL DEFAULT 'pending' CHECK (status IN
                              ('pending', 'processing', 'paid', 'failed', 'expired',
                               'active', 'past_due', 'cancelled', 'refunded', 'disputed')),
    -- Stripe's created time of the event that last set status, so an older event never
    -- overwrites a newer state.
    status_event_at         timestamptz,
    display_name            text NOT NULL DEFAULT '',
    message                 text NOT NULL DEFAULT '',
    hide_name               boolean NOT NULL DEFAULT false,
    hide_amount             boolean NOT NULL DEFAULT false,
    gift_aid_declaration_id uuid REFERENCES gift_aid_declarations (id),
    email                   text NOT NULL DEFAULT '',
    checkout_session_id     text UNIQUE,
    payment_intent_id       text UNIQUE,
    subscription_id         text UNIQUE,
    customer_id             text,
    cancel_at_period_end    boolean NOT NULL DEFAULT false,
    -- Money Stripe reported for an object this service never created: recorded, and
    -- flagged for a trustee to review.
    unmatched               boolean NOT NULL DEFAULT false,
    -- The donate form's one-time token: a double-submitted form finds the same donation,
    -- and so the same checkout session.
    form_token              text UNIQUE,
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX donations_appeal ON donations (appeal_id, created_at);
CREATE INDEX donations_fundraiser ON donations (fundraiser_id, created_at) WHERE fundraiser_id IS NOT NULL;

-- The ledger: one immutable row per money fact, keyed by the Stripe object it came from.
-- amount is the signed effect on "raised"; fee the Stripe fee it cost; gift_aid_base the
-- signed amount on which Gift Aid may be claimed.
CREATE TABLE ledger_entries (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    appeal_id     bigint NOT NULL REFERENCES appeals (id),
    fundraiser_id bigint REFERENCES fundraisers (id),
    donation_id   uuid REFERENCES donations (id),
    kind          text NOT NULL CHECK (kind IN
                    ('gift', 'refund', 'dispute_hold', 'dispute_release', 'dispute_lost', 'fee')),
    stripe_object text NOT NULL,
    seq           text NOT NULL DEFAULT '',
    charge_id     text,
    payment_intent text,
    amount        numeric(12,2) NOT NULL,
    fee           numeric(12,2) NOT NULL DEFAULT 0,
    gift_aid_base numeric(12,2) NOT NULL DEFAULT 0,
    frequency     text NOT NULL DEFAULT 'one_off' CHECK (frequency IN ('one_off', 'monthly')),
    donor_key     text NOT NULL DEFAULT '',
    occurred_at   timestamptz NOT NULL,
    recorded_at   timestamptz NOT NULL DEFAULT now(),
    event_id      text,
    -- A second copy of the same money fact is impossible.
    UNIQUE (stripe_object, kind, seq),
    CHECK ((kind = 'gift' AND amount > 0) OR (kind = 'refund' AND amount < 0) OR
           (kind = 'dispute_hold' AND amount < 0) OR (kind = 'dispute_release' AND amount > 0) OR
           (kind = 'dispute_lost' AND amount < 0) OR (kind = 'fee' AND amount = 0))
);
CREATE INDEX ledger_appeal ON ledger_entries (appeal_id, occurred_at);
CREATE INDEX ledger_fundraiser ON ledger_entries (fundraiser_id, occurred_at) WHERE fundraiser_id IS NOT NULL;
CREATE INDEX ledger_charge ON ledger_entries (charge_id) WHERE charge_id IS NOT NULL;
CREATE INDEX ledger_payment_intent ON ledger_entries (payment_intent) WHERE payment_intent IS NOT NULL;
CREATE INDEX ledger_donation ON ledger_entries (donation_id);

CREATE FUNCTION ledger_is_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger entries are immutable: record a new entry instead';
END $$;
CREATE TRIGGER ledger_no_update BEFORE UPDATE OR DELETE ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION ledger_is_immutable();

-- Every verified Stripe event, stored once by id with its raw payload.
CREATE TABLE stripe_events (
    id          text PRIMARY KEY,
    type        text NOT NULL,
    api_version text NOT NULL DEFAULT '',
    livemode    boolean NOT NULL DEFAULT false,
    created     timestamptz,
    payload     bytea NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    applied_at  timestamptz,
    outcome     text NOT NULL DEFAULT 'received',
    detail      text NOT NULL DEFAULT '',
    -- A charge event (refund, dispute, fee) that arrives before the gift it belongs to waits
    -- here, keyed by payment intent, and is applied in the transaction that records the gift.
    defer_key   text
);
CREATE INDEX stripe_events_review ON stripe_events (received_at)
    WHERE outcome IN ('unmatched', 'malformed', 'error', 'deferred', 'wrong_mode');
CREATE INDEX stripe_events_deferred ON stripe_events (defer_key) WHERE outcome = 'deferred';

-- Gift Aid claims lock the gifts they include; a refund of a claimed gift queues an
-- adjustment for the next claim (HMRC's rule).
CREATE TABLE gift_aid_claims (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    created_at timestamptz NOT NULL DEFAULT now(),
    created_by text NOT NULL DEFAULT '',
    total      numeric(14,2) NOT NULL DEFAULT 0
);
CREATE TABLE gift_aid_claim_items (
    ledger_entry_id bigint PRIMARY KEY REFERENCES ledger_entries (id),
    claim_id        bigint NOT NULL REFERENCES gift_aid_claims (id)
);
CREATE TABLE gift_aid_adjustments (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    refund_entry_id bigint NOT NULL UNIQUE REFERENCES ledger_entries (id),
    gift_entry_id   bigint NOT NULL REFERENCES ledger_entries (id),
    tax_amount      numeric(12,2) NOT NULL CHECK (tax_amount > 0),
    note            text NOT NULL CHECK (length(note) <= 100),
    claim_id        bigint REFERENCES gift_aid_claims (id),
    created_at      timestamptz NOT NULL DEFAULT now()
);

-- Totals derived from the ledger, kept current in the same transaction as each entry.
-- Each scope is striped over a few shard rows so concurrent gifts do not queue on one row
-- lock; a read sums at most 8 rows whatever the size of the ledger.
CREATE TABLE totals (
    scope         text NOT NULL CHECK (scope IN ('appeal', 'fundraiser')),
    scope_id      bigint NOT NULL,
    shard         smallint NOT NULL CHECK (shard >= 0 AND shard < 8),
    gross         numeric(14,2) NOT NULL DEFAULT 0,
    refunded      numeric(14,2) NOT NULL DEFAULT 0,
    disputed      numeric(14,2) NOT NULL DEFAULT 0,
    lost          numeric(14,2) NOT NULL DEFAULT 0,
    fees          numeric(14,2) NOT NULL DEFAULT 0,
    gift_aid_base numeric(14,2) NOT NULL DEFAULT 0,
    gifts         bigint NOT NULL DEFAULT 0,
    donors        bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (scope, scope_id, shard)
);

-- Which donors a scope has already counted, so "donors" is a distinct count kept current.
CREATE TABLE total_donors (
    scope     text NOT NULL,
    scope_id  bigint NOT NULL,
    donor_key text NOT NULL,
    PRIMARY KEY (scope, scope_id, donor_key)
);
