-- Marketing consent and the charity's own pages (issue 17).

-- The charity's settings that admins change in /admin/charity (campaigns/charity): how the
-- donate form asks for marketing consent, and the text of its privacy notice, contact and
-- complaints pages. One row. A page text of '' means the default text written in the code
-- (it names the charity from CHARITY_* and the retention rules as the code keeps them).
CREATE TABLE charity_settings (
    id              boolean PRIMARY KEY DEFAULT true CHECK (id),
    -- opt_in: unticked boxes, one per channel. soft_opt_in: the charity's soft opt-in for
    -- email (an opt-out box), post and phone still unticked boxes.
    consent_mode    text NOT NULL DEFAULT 'opt_in' CHECK (consent_mode IN ('opt_in', 'soft_opt_in')),
    privacy_text    text NOT NULL DEFAULT '' CHECK (char_length(privacy_text) <= 20000),
    contact_text    text NOT NULL DEFAULT '' CHECK (char_length(contact_text) <= 20000),
    complaints_text text NOT NULL DEFAULT '' CHECK (char_length(complaints_text) <= 20000),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
INSERT INTO charity_settings DEFAULT VALUES;

-- Keys that sign links a donor follows without logging in (campaigns/donors/consent.go:
-- the "stop emails about our work" link in every email). Made once, from Go's crypto/rand.
CREATE TABLE link_keys (
    name       text PRIMARY KEY,
    key        bytea NOT NULL CHECK (octet_length(key) = 32),
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Every marketing answer, appended, never changed (only its contact detail is blanked by
-- erasure): the donate form's answer per channel, stored with the donation that carried
-- it, and each withdrawal, stored against the donor record. A donor's standing per channel
-- is her latest row (answered_at, then id). Each row keeps the exact words she was shown.
CREATE TABLE marketing_consents (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The gift whose form carried the answer; its donor is the donation's donor record.
    donation_id     uuid REFERENCES donations (id),
    -- A withdrawal's donor (known from the signed link).
    donor_id        uuid REFERENCES donors (id),
    channel         text NOT NULL CHECK (channel IN ('email', 'post', 'phone')),
    granted         boolean NOT NULL,
    -- How the answer was asked: opt_in (an unticked box), soft_opt_in (an opt-out box), or
    -- withdrawal (the link in an email).
    mode            text NOT NULL CHECK (mode IN ('opt_in', 'soft_opt_in', 'withdrawal')),
    wording         text NOT NULL CHECK (wording <> '' AND char_length(wording) <= 1000),
    wording_version text NOT NULL CHECK (wording_version <> ''),
    -- The postal address or phone number given with a yes for post or phone; '' otherwise
    -- and once erased.
    contact         text NOT NULL DEFAULT '' CHECK (char_length(contact) <= 300),
    answered_at     timestamptz NOT NULL,
    CHECK ((donation_id IS NULL) <> (donor_id IS NULL)),
    CHECK ((mode = 'withdrawal') = (donor_id IS NOT NULL)),
    UNIQUE (donation_id, channel)
);
CREATE INDEX marketing_consents_donor ON marketing_consents (donor_id) WHERE donor_id IS NOT NULL;
