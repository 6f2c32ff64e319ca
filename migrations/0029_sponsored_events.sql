-- Sponsored events (campaigns/pages/sponsored.go). A fundraiser marks her page a sponsored
-- event on her page form ('requested'); an admin checks it ('approved', or back to 'no').
-- Only an approved page's gifts carry "Yes" in the Gift Aid schedule's "Sponsored event"
-- column. charity_pays_costs records whether the charity pays the fundraiser's event costs:
-- then, by HMRC's rule, she and people connected with her cannot Gift Aid their sponsorship.
ALTER TABLE fundraisers ADD COLUMN sponsored_event text NOT NULL DEFAULT 'no'
    CHECK (sponsored_event IN ('no', 'requested', 'approved'));
ALTER TABLE fundraisers ADD COLUMN sponsored_charity_pays_costs boolean NOT NULL DEFAULT false;
ALTER TABLE fundraisers ADD COLUMN sponsored_checked_by bigint REFERENCES users (id);
ALTER TABLE fundraisers ADD COLUMN sponsored_checked_at timestamptz;
CREATE INDEX fundraisers_sponsored_requested ON fundraisers (id) WHERE sponsored_event = 'requested';

-- A page owner giving on her own page confirms the money is her own (web/donate.go);
-- the declaration keeps that she did.
ALTER TABLE gift_aid_declarations ADD COLUMN own_money_confirmed boolean NOT NULL DEFAULT false;
