package payments

import (
	"context"

	"giving/campaigns"
)

// QueueEvent stores a signed body as a delivery under load would leave it: queued, not
// applied (tests of the appliers' batches).
func QueueEvent(ctx context.Context, db campaigns.DB, body []byte) error {
	ev, err := parseEvent(body)
	if err != nil {
		return err
	}
	return insertEvent(ctx, db, ev, body, "queued", "", "")
}

// ApplyBatch applies one batch of the queued events, as an applier does.
func (h *Webhooks) ApplyBatch(ctx context.Context) (int, error) { return h.applyBatch(ctx, 0) }

// WaitingToBeStored is how many deliveries wait for a storer (gather.go).
func (h *Webhooks) WaitingToBeStored() int {
	h.gathering.mu.Lock()
	defer h.gathering.mu.Unlock()
	return len(h.gathering.pending)
}
