-- Trustees review money Stripe reported for something this service never created: the
-- donation stays flagged as unmatched (history is not rewritten), and the review is recorded.
ALTER TABLE donations ADD COLUMN reviewed_at timestamptz;
ALTER TABLE donations ADD COLUMN reviewed_by text NOT NULL DEFAULT '';
ALTER TABLE donations ADD COLUMN review_note text NOT NULL DEFAULT '';
CREATE INDEX donations_unreviewed ON donations (created_at) WHERE unmatched AND reviewed_at IS NULL;
