package payments

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"giving/campaigns"
	"giving/campaigns/accounts"
	"giving/campaigns/dbq"
	"giving/campaigns/donors"
)

// EraseDonor erases the personal data held about the donor with this email, in one
// transaction: the donations and Gift Aid declarations (campaigns.EraseDonorTx, which
// keeps what HMRC requires) and the personal data inside the stored Stripe events that
// name the donor's Stripe objects (ScrubEvents). It writes "donor erased" to the audit
// log. Amounts, statuses, Stripe ids, the ledger and every total are unchanged, and
// 'giving replay' still rebuilds the same totals from the scrubbed events.
func EraseDonor(ctx context.Context, store *campaigns.Store, by accounts.User, email string, now time.Time) (donors.ErasureReport, error) {
	rep, err := campaigns.InTxValue(ctx, store, func(tx pgx.Tx) (donors.ErasureReport, error) {
		return donors.EraseDonorTx(ctx, tx, by, email, now, ScrubEvents)
	})
	if err != nil {
		return rep, fmt.Errorf("erase donor: %w", err)
	}
	return rep, nil
}

// errDryRun rolls back a dry run's transaction.
var errDryRun = errors.New("dry run")

// PlanErasure reports exactly what EraseDonor would do, by doing it in a transaction that
// is then rolled back: nothing changes, and nothing is written to the audit log.
func PlanErasure(ctx context.Context, store *campaigns.Store, by accounts.User, email string, now time.Time) (donors.ErasureReport, error) {
	var rep donors.ErasureReport
	err := store.InTx(ctx, func(tx pgx.Tx) error {
		var err error
		if rep, err = donors.EraseDonorTx(ctx, tx, by, email, now, ScrubEvents); err != nil {
			return err
		}
		return errDryRun
	})
	if err != nil && !errors.Is(err, errDryRun) {
		return rep, fmt.Errorf("plan donor erasure: %w", err)
	}
	return rep, nil
}

// personalKeys are the fields of Stripe objects that hold a person's contact details:
// nulled wherever they appear, at any depth (including data.previous_attributes and a
// dispute's evidence).
var personalKeys = map[string]bool{
	"customer_details":       true, // checkout session: email, name, address, phone
	"customer_email":         true,
	"customer_name":          true,
	"customer_address":       true,
	"customer_phone":         true,
	"customer_shipping":      true,
	"billing_details":        true, // charge, payment method
	"receipt_email":          true,
	"shipping":               true,
	"shipping_details":       true,
	"customer_email_address": true, // dispute evidence
	"customer_purchase_ip":   true,
	"customer_signature":     true,
	"billing_address":        true,
	"shipping_address":       true,
}

// customerKeys are a Stripe customer object's own contact details.
var customerKeys = []string{"email", "name", "phone", "address", "shipping", "description"}

// ScrubEvents erases the personal data inside every stored Stripe event whose payload
// names any of ids (customer, session, payment intent, subscription, charge, invoice ids):
// the fields in personalKeys become null wherever they appear, and a customer object's
// email, name, phone, address and shipping too. Ids, amounts, statuses and metadata are
// kept, so replaying the events moves the same money. It returns how many events changed.
//
// One exception keeps 'giving replay' exact: where an object names no Stripe customer,
// the distinct-donor count keys the donor by a hash of the email, so its email becomes a
// stand-in derived from that hash ("erased-<hash>@erased.invalid"), which is no address
// and names nobody but still tells one donor from another.
//
// A payload that is not JSON (stored for review, never applied) cannot be edited field
// by field: it is replaced by a note saying so.
func ScrubEvents(ctx context.Context, tx pgx.Tx, ids []string) (int, error) {
	evs, err := donors.EventsMentioning(ctx, tx, ids, true)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range evs {
		out, changed := ScrubPayload(e.Payload)
		if !changed {
			continue
		}
		if err := dbq.New(tx).ScrubEventPayload(ctx, dbq.ScrubEventPayloadParams{ID: e.ID, Payload: out}); err != nil {
			return n, fmt.Errorf("scrub event %s: %w", e.ID, err)
		}
		n++
	}
	return n, nil
}

// ScrubPayload returns payload with its personal data erased (see ScrubEvents) and
// whether anything changed. The result is indented JSON; numbers are kept exactly.
func ScrubPayload(payload []byte) ([]byte, bool) {
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil || dec.More() {
		note := []byte(`{"erased":"this stored body was not JSON; it was removed when the donor's personal data was erased"}`)
		return note, !bytes.Equal(note, payload)
	}
	if !scrubValue(v) {
		return payload, false
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return payload, false // only decoded JSON values: cannot happen
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), true
}

// scrubValue erases personal data in v in place and reports whether it changed anything.
func scrubValue(v any) bool {
	changed := false
	switch o := v.(type) {
	case map[string]any:
		noCustomer := hasNull(o, "customer")
		for k, child := range o {
			if !personalKeys[k] || child == nil {
				continue
			}
			if noCustomer && (k == "customer_details" || k == "customer_email") {
				if stand := standIn(k, child); stand != nil {
					if !equalJSON(child, stand) {
						o[k] = stand
						changed = true
					}
					continue
				}
			}
			o[k] = nil
			changed = true
		}
		if o["object"] == "customer" {
			for _, k := range customerKeys {
				if o[k] != nil {
					o[k] = nil
					changed = true
				}
			}
		}
		for _, child := range o {
			if scrubValue(child) {
				changed = true
			}
		}
	case []any:
		for _, child := range o {
			if scrubValue(child) {
				changed = true
			}
		}
	}
	return changed
}

// hasNull reports whether o has key k with a null value (a missing key counts too, for
// objects that name a customer at all, i.e. have customer_details or customer_email).
func hasNull(o map[string]any, k string) bool {
	v, ok := o[k]
	return !ok || v == nil
}

// standIn is what replaces a customer-less object's email: see ScrubEvents. nil when the
// field holds no email.
func standIn(k string, v any) any {
	email := ""
	switch k {
	case "customer_email":
		email, _ = v.(string)
	case "customer_details":
		if m, ok := v.(map[string]any); ok {
			email, _ = m["email"].(string)
		}
	}
	if email == "" {
		return nil
	}
	if !strings.HasSuffix(email, "@erased.invalid") {
		sum := sha256.Sum256([]byte(accounts.NormalizeEmail(email)))
		email = "erased-" + hex.EncodeToString(sum[:12]) + "@erased.invalid"
	}
	if k == "customer_email" {
		return email
	}
	return map[string]any{"email": email, "name": nil, "address": nil, "phone": nil}
}

func equalJSON(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}
