-- A worker cancelling a subscription at Stripe holds the row by a lease instead of an open
-- transaction: set while the call is in flight, cleared with its outcome. A worker that
-- dies mid-call leaves the lease to expire, and the row is tried again.
ALTER TABLE subscription_cancels ADD COLUMN claimed_until timestamptz;
