package payments

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"giving/campaigns"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"
)

// BalanceLookup fetches the fee of a balance transaction. Real Stripe names a charge's
// balance transaction by id only, so the fee must be asked for.
type BalanceLookup interface {
	Fee(ctx context.Context, balanceTransactionID string) (int64, error)
}

// StripeBalance asks Stripe's API.
type StripeBalance struct{ API *client.API }

// Fee returns the balance transaction's fee in pence.
func (s StripeBalance) Fee(ctx context.Context, id string) (int64, error) {
	p := &stripe.BalanceTransactionParams{}
	p.Context = ctx
	bt, err := s.API.BalanceTransactions.Get(id, p)
	if err != nil {
		return 0, fmt.Errorf("get balance transaction %s: %w", id, err)
	}
	return bt.Fee, nil
}

// learnFee runs after a charge event is durable: when the charge's balance transaction is
// only an id, it fetches the fee and stores it as a local event, "evt_local_fee_<charge>",
// carrying the charge with its balance transaction expanded. Being an event, the fee is
// applied by the same idempotent path and rebuilt by replay like everything else. A failure
// only costs the fee until reconciliation, never the gift.
func (h *Webhooks) learnFee(ctx context.Context, ev event) {
	if h.Balance == nil || (ev.Type != "charge.succeeded" && ev.Type != "charge.updated") {
		return
	}
	var ch stripe.Charge
	if json.Unmarshal(ev.Data.Raw, &ch) != nil || ch.BalanceTransaction == nil || ch.BalanceTransaction.ID == "" ||
		ch.BalanceTransaction.Fee != 0 || ch.BalanceTransaction.Amount != 0 {
		return // none yet, or already expanded
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	fee, err := h.Balance.Fee(ctx, ch.BalanceTransaction.ID)
	if err != nil {
		h.log.Warn("could not fetch a charge's fee; reconciliation will", "charge", ch.ID, "err", err)
		return
	}
	body, err := feeEvent(ev, ch.ID, ch.BalanceTransaction.ID, fee)
	if err == nil {
		_, err = h.Apply(ctx, body)
	}
	if err != nil {
		h.log.Warn("could not record a charge's fee; reconciliation will", "charge", ch.ID, "err", err)
	}
}

// feeEvent rewrites a charge event with its balance transaction expanded to carry fee.
func feeEvent(ev event, chargeID, btID string, fee int64) ([]byte, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(ev.Data.Raw, &obj); err != nil {
		return nil, err
	}
	bt, err := json.Marshal(map[string]any{"id": btID, "object": "balance_transaction", "fee": fee})
	if err != nil {
		return nil, err
	}
	obj["balance_transaction"] = bt
	data, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{
		"id": "evt_local_fee_" + chargeID, "object": "event", "api_version": ev.APIVersion, "created": ev.Created,
		"livemode": ev.Livemode, "type": string(ev.Type), "data": map[string]json.RawMessage{"object": data},
	})
}

// Apply stores and applies one already-trusted event body (from reconciliation, or made
// here) exactly as a verified webhook delivery is: once by id, in one transaction.
func (h *Webhooks) Apply(ctx context.Context, body []byte) (string, error) {
	ev, parseErr := parseEvent(body)
	return h.storeAndApply(ctx, ev, body, parseErr)
}

// storeAndApply stores and applies one parsed event in its own transaction. A deadlock or serialization failure
// rolled everything back, so it is simply tried again (a few times, briefly) before Stripe
// is asked to retry. An event that cannot be applied is stored for review on its own.
func (h *Webhooks) storeAndApply(ctx context.Context, ev event, body []byte, parseErr error) (string, error) {
	var outcome string
	var err error
	applyCtx := ctx
	if !h.unbounded {
		applyCtx = withBounds(ctx, h.GiftMax)
	}
	applyCtx = withDonorMail(applyCtx, h.DonorMail)
	for attempt := 0; attempt < 4; attempt++ {
		outcome, err = campaigns.InTxValue(ctx, h.store, func(tx pgx.Tx) (string, error) {
			return receive(applyCtx, tx, ev, body, parseErr, h)
		})
		if !retryable(err) {
			break
		}
		h.metrics.Retries.Inc()
		select {
		case <-ctx.Done():
			return "", err
		case <-time.After(time.Duration(attempt+1) * 10 * time.Millisecond):
		}
	}
	if errors.Is(err, errDuplicate) {
		h.metrics.Duplicates.Inc()
		return "duplicate", nil
	}
	if set := setAsideOutcome(err); set != "" {
		h.log.Error("webhook could not be applied: stored for review", "event", ev.ID, "type", ev.Type, "outcome", set, "err", err)
		h.metrics.ApplyFailures.WithLabelValues(set).Inc()
		detail := err.Error()
		err = h.store.InTx(ctx, func(tx pgx.Tx) error { return insertEvent(ctx, tx, ev, body, set, detail, "") })
		if errors.Is(err, errDuplicate) {
			return "duplicate", nil
		}
		return set, err
	}
	return outcome, err
}

// retryable is a transaction PostgreSQL aborted only to break a deadlock or keep a
// serializable order: the same work succeeds when tried again.
func retryable(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "40P01" || pgErr.Code == "40001")
}
