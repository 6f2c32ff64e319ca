-- More than one appeal, each with its own fund (campaigns/appeals).
--
-- An appeal is open (it takes gifts) or closed (its page says so and the form is refused).
-- Each carries a fund: a short code the charity's books use, restricted (the money may be
-- spent only on the appeal's purpose) or unrestricted. Each says, in its own words, what
-- happens if it raises more than it needs (the Charity Commission's advice for restricted
-- appeals), shown beside the Give button; an appeal without one is refused. An admin may
-- upload its photo (stored as copies at the widths pages show, as page photos are) and
-- choose the tier a fresh form starts on.
ALTER TABLE appeals
    ADD COLUMN status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    ADD COLUMN fund_code text NOT NULL DEFAULT 'GENERAL' CHECK (fund_code ~ '^[A-Z0-9]([A-Z0-9-]{0,18}[A-Z0-9])?$'),
    ADD COLUMN fund_restricted boolean NOT NULL DEFAULT false,
    ADD COLUMN surplus_statement text NOT NULL DEFAULT '',
    ADD COLUMN preselected_tier_id bigint REFERENCES tiers (id);

-- The appeal this service was built for: its money is for survivors of modern slavery and
-- trafficking only, so its fund is restricted.
UPDATE appeals SET fund_code = 'FREEDOM', fund_restricted = true
WHERE slug = 'fundraising-for-freedom';
UPDATE appeals SET surplus_statement = 'If we raise more than we need for ' || name
    || ', we will spend the rest on our other work with women who have survived modern slavery and trafficking.'
WHERE btrim(surplus_statement) = '';
ALTER TABLE appeals ADD CONSTRAINT appeals_surplus_statement CHECK (btrim(surplus_statement) <> '');

-- A closed appeal has no public page address beyond its own; the default appeal (at /) is
-- never closed.
ALTER TABLE appeals ADD CONSTRAINT appeals_default_open CHECK (NOT is_default OR status = 'open');

-- Every ledger entry carries the fund of its appeal as it was when the entry was recorded:
-- set here, on insert, so no path that records money can forget it, and immutable with the
-- rest of the entry. Entries recorded before this migration take their appeal's fund now
-- (the only time an entry is written after it was made: a new column has no value to keep).
ALTER TABLE ledger_entries ADD COLUMN fund_code text;
ALTER TABLE ledger_entries DISABLE TRIGGER ledger_no_update;
UPDATE ledger_entries e SET fund_code = a.fund_code FROM appeals a WHERE a.id = e.appeal_id;
ALTER TABLE ledger_entries ENABLE TRIGGER ledger_no_update;
ALTER TABLE ledger_entries ALTER COLUMN fund_code SET NOT NULL;

CREATE FUNCTION ledger_fund_from_appeal() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT a.fund_code INTO NEW.fund_code FROM appeals a WHERE a.id = NEW.appeal_id;
    RETURN NEW;
END $$;
CREATE TRIGGER ledger_fund BEFORE INSERT ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION ledger_fund_from_appeal();

-- An appeal's fund is fixed once money has been recorded against it, so the fund of every
-- entry is its appeal's fund and totals by fund add up to the appeals' totals.
CREATE FUNCTION appeal_fund_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.fund_code, NEW.fund_restricted) IS DISTINCT FROM (OLD.fund_code, OLD.fund_restricted)
       AND EXISTS (SELECT 1 FROM ledger_entries e WHERE e.appeal_id = OLD.id) THEN
        RAISE EXCEPTION 'appeal % has money recorded: its fund cannot change', OLD.id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'appeals_fund_fixed';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER appeal_fund_fixed BEFORE UPDATE OF fund_code, fund_restricted ON appeals
    FOR EACH ROW EXECUTE FUNCTION appeal_fund_fixed();

-- An appeal's photo: every copy (the widest is the one /a/{slug}/photo serves without ?w=).
CREATE TABLE appeal_photos (
    appeal_id    bigint NOT NULL REFERENCES appeals (id),
    width        integer NOT NULL CHECK (width > 0),
    height       integer NOT NULL CHECK (height > 0),
    content_type text NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png')),
    data         bytea NOT NULL CHECK (octet_length(data) BETWEEN 1 AND 5242880),
    sha256       text NOT NULL, -- the ETag
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (appeal_id, width)
);
