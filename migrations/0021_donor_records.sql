-- A donor record: one person, known by one normalised email (trimmed, lower-case), linking
-- every donation given with that address (and, through them, their Gift Aid declarations).
-- The pseudonymous key the ledger counts donors by (donor_key: the Stripe customer, else a
-- hash of the email) is unchanged: a record is the charity's view of a person, the ledger
-- keeps no personal data. campaigns/donors/records.go reads it.
CREATE TABLE donors (
    -- A uuid, as donations' ids: replay copies the records into its scratch schema and
    -- may add more there, with no sequence to fall behind.
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- NULL once the donor's personal data is erased: the row stays, so the donations it
    -- links stay one (anonymous) person, and a later gift from the address starts a new one.
    email      text UNIQUE CHECK (email = lower(btrim(email)) AND email LIKE '%_@_%' AND char_length(email) <= 254),
    -- The name on the card at the last checkout (Stripe's customer_details.name), for the
    -- greeting of the donor's emails; '' when unknown or erased.
    name       text NOT NULL DEFAULT '' CHECK (char_length(name) <= 200 AND name !~ '[\r\n]'),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    erased_at  timestamptz,
    CHECK ((email IS NULL) = (erased_at IS NOT NULL))
);

ALTER TABLE donations ADD COLUMN donor_id uuid REFERENCES donors (id);
CREATE INDEX donations_donor ON donations (donor_id) WHERE donor_id IS NOT NULL;

-- Backfill: one record per address already given with, the earliest gift its start.
INSERT INTO donors (email, created_at, updated_at)
SELECT lower(btrim(email)), min(created_at), min(created_at) FROM donations
WHERE lower(btrim(email)) LIKE '%_@_%' AND char_length(btrim(email)) <= 254
GROUP BY lower(btrim(email));
UPDATE donations d SET donor_id = r.id FROM donors r WHERE r.email = lower(btrim(d.email));

-- Every way a donation learns its email (the donate form, Stripe's checkout and invoice
-- events, money Stripe reported for a session we never made, replay's copy) links it to
-- its donor here, so no path can forget. Blanking the email (erasure) keeps the link.
CREATE FUNCTION donations_link_donor() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    e text := lower(btrim(NEW.email));
BEGIN
    IF e NOT LIKE '%_@_%' OR char_length(e) > 254 THEN
        RETURN NEW;
    END IF;
    SELECT id INTO NEW.donor_id FROM donors WHERE email = e;
    IF NEW.donor_id IS NULL THEN
        INSERT INTO donors (email) VALUES (e)
        ON CONFLICT (email) DO UPDATE SET updated_at = donors.updated_at
        RETURNING id INTO NEW.donor_id;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER donations_donor_on_insert BEFORE INSERT ON donations
    FOR EACH ROW EXECUTE FUNCTION donations_link_donor();
CREATE TRIGGER donations_donor_on_email BEFORE UPDATE OF email ON donations
    FOR EACH ROW WHEN (lower(btrim(NEW.email)) IS DISTINCT FROM lower(btrim(OLD.email)))
    EXECUTE FUNCTION donations_link_donor();

-- The emails a donor is sent about her money (campaigns/donations/receipts.go): one row
-- per fact (a receipt per gift, a set-up confirmation per monthly gift, a failed payment per
-- invoice, the end of a gift Stripe gave up charging), inserted in the transaction that
-- queues the email, so a fact delivered three times or replayed is written about once.
-- It holds ids only, no personal data.
CREATE TABLE donor_mail_facts (
    donation_id uuid NOT NULL REFERENCES donations (id),
    kind        text NOT NULL CHECK (kind IN ('receipt', 'monthly_set_up', 'payment_failed', 'monthly_ended')),
    -- The Stripe object the email is about: the gift's payment intent or invoice, the
    -- subscription, the failed invoice.
    fact        text NOT NULL,
    -- When the fact happened (its event's time, as the ledger dates money).
    occurred_at timestamptz NOT NULL,
    PRIMARY KEY (donation_id, kind, fact)
);
-- Monthly gifts set up before this migration were never confirmed by email, and must not
-- be now (a late event would otherwise send one): they count as confirmed.
INSERT INTO donor_mail_facts (donation_id, kind, fact, occurred_at)
SELECT id, 'monthly_set_up', subscription_id, updated_at FROM donations
WHERE frequency = 'monthly' AND subscription_id IS NOT NULL;
