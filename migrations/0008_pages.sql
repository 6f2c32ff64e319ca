-- Fundraiser pages written by fundraisers themselves: each page has an owner (an account
-- with role fundraiser; pages an admin or the seed made have none), an optional photo,
-- a record of which gifts the owner has thanked, and offline takings (cash, cheques, bank
-- transfers she collected) that wait for an admin before they reach the ledger.

ALTER TABLE fundraisers
    ADD COLUMN owner_id   bigint CONSTRAINT fundraisers_owner_fk REFERENCES users (id),
    ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
CREATE INDEX fundraisers_owner ON fundraisers (owner_id, created_at) WHERE owner_id IS NOT NULL;

-- The photo lives apart from the page, so reading a page never drags the bytes along.
-- The type is what the bytes are (sniffed and decoded on upload), never what the file was called.
CREATE TABLE fundraiser_photos (
    fundraiser_id bigint PRIMARY KEY REFERENCES fundraisers (id),
    content_type  text NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png', 'image/webp')),
    data          bytea NOT NULL CHECK (octet_length(data) BETWEEN 1 AND 5242880),
    width         integer NOT NULL CHECK (width > 0),
    height        integer NOT NULL CHECK (height > 0),
    sha256        text NOT NULL, -- the ETag
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- Each gift is thanked at most once; the address the note went to is never shown to the
-- fundraiser and is not kept here.
CREATE TABLE gift_thanks (
    donation_id   uuid PRIMARY KEY REFERENCES donations (id),
    fundraiser_id bigint NOT NULL REFERENCES fundraisers (id),
    thanked_by    bigint NOT NULL REFERENCES users (id),
    thanked_at    timestamptz NOT NULL DEFAULT now()
);

-- Money a fundraiser collected herself. Pending until an admin verifies it, which records
-- one ledger gift (stripe_object 'offline_<id>', never Gift Aid-able: money collected from others is not the fundraiser's gift) in the
-- same transaction; a rejected taking never reaches the ledger.
CREATE TABLE offline_takings (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    fundraiser_id bigint NOT NULL REFERENCES fundraisers (id),
    submitted_by  bigint NOT NULL REFERENCES users (id),
    amount        numeric(12,2) NOT NULL CHECK (amount > 0),
    received_on   date NOT NULL,
    kind          text NOT NULL CHECK (kind IN ('cash', 'cheque', 'bank_transfer')),
    note          text NOT NULL DEFAULT '' CHECK (length(note) <= 500),
    status        text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'verified', 'rejected')),
    decided_by    bigint REFERENCES users (id),
    decided_at    timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CHECK ((status = 'pending') = (decided_at IS NULL))
);
CREATE INDEX offline_takings_pending ON offline_takings (created_at) WHERE status = 'pending';
CREATE INDEX offline_takings_page ON offline_takings (fundraiser_id, created_at);
