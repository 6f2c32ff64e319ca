-- Webhook deliveries are stored with one INSERT as 'queued' and applied in a transaction
-- of their own (inline when a slot is free, else by the appliers). The appliers find the
-- oldest queued events through this index.
CREATE INDEX stripe_events_queued ON stripe_events (received_at) WHERE outcome = 'queued';
