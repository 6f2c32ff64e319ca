package payments

import (
	"bytes"
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// TestParseEventReadsAsEncodingJSONDoes: every event we build, and bodies shaped to trip a
// hand-rolled reader, read the same through parseEvent (gjson where it is sure) as through
// encoding/json alone: the same head, object, names and verdict.
func TestParseEventReadsAsEncodingJSONDoes(t *testing.T) {
	t.Parallel()
	b := EventBuilder{}
	m := Meta{DonationID: "0B6A0D1E-1111-4222-8333-444455556666", Campaign: "fundraising-for-freedom"}
	bodies := map[string][]byte{
		"session paid":        b.CheckoutSessionCompleted("cs_1", "pi_1", "cus_1", 300, "paid", m),
		"session async":       b.CheckoutSessionAsync(true, "cs_2", "pi_2", "cus_2", 300, m),
		"session expired":     b.CheckoutSessionExpired("cs_3", 300, m),
		"subscription set up": b.CheckoutSubscriptionCompleted("cs_4", "sub_4", "cus_4", 1000, m),
		"direct debit":        b.DirectDebitSubscriptionSession("checkout.session.completed", "cs_5", "sub_5", "cus_5", 1000, m),
		"invoice paid":        b.InvoicePaid("in_6", "sub_6", "cus_6", "ch_6", "pi_6", 1000, "subscription_cycle", m),
		"invoice failed":      b.InvoicePaymentFailed("in_7", "sub_7", "cus_7", 1000, m),
		"subscription moved":  b.SubscriptionUpdated("sub_8", "cus_8", 1000, "active", true, m),
		"subscription ended":  b.SubscriptionDeleted("sub_9", "cus_9", 1000, m),
		"charge":              b.ChargeSucceeded("ch_10", "pi_10", "cus_10", 300, 26, "", m),
		"refund":              b.ChargeRefunded("ch_11", "pi_11", 300, 100, m),
		"dispute":             b.DisputeCreated("dp_12", "ch_12", "pi_12", 300),
		"dispute closed":      b.DisputeClosed("dp_13", "ch_13", "pi_13", 300, true, 1500),
		"payout":              b.PayoutPaid("po_14", 10000),
	}
	for name, body := range map[string]string{
		"key given twice":           `{"id":"evt_1","id":"evt_2","type":"charge.refunded","data":{"object":{"payment_intent":"pi_1","payment_intent":"pi_2"}}}`,
		"escaped id":                `{"id":"evt_\u0031","type":"charge.refunded","data":{"object":{"client_reference_id":"A\u00e9"}}}`,
		"expanded payment intent":   `{"id":"evt_1","type":"charge.refunded","data":{"object":{"payment_intent":{"id":"pi_x","object":"payment_intent"}}}}`,
		"payment intent a number":   `{"id":"evt_1","type":"charge.refunded","data":{"object":{"payment_intent":5,"client_reference_id":"d"}}}`,
		"reference a number":        `{"id":"evt_1","type":"charge.refunded","data":{"object":{"payment_intent":"pi_1","client_reference_id":5}}}`,
		"metadata a string":         `{"id":"evt_1","type":"charge.refunded","data":{"object":{"payment_intent":"pi_1","metadata":"x"}}}`,
		"donation id a number":      `{"id":"evt_1","type":"charge.refunded","data":{"object":{"payment_intent":"pi_1","metadata":{"donation_id":7}}}}`,
		"nulls":                     `{"id":"evt_1","type":"charge.refunded","api_version":null,"created":null,"livemode":null,"data":{"object":{"payment_intent":null,"metadata":null}}}`,
		"created with exponent":     `{"id":"evt_1","type":"charge.refunded","created":1e9,"data":{"object":{}}}`,
		"created with a fraction":   `{"id":"evt_1","type":"charge.refunded","created":1.5,"data":{"object":{}}}`,
		"created too large":         `{"id":"evt_1","type":"charge.refunded","created":99999999999999999999,"data":{"object":{}}}`,
		"created negative":          `{"id":"evt_1","type":"charge.refunded","created":-5,"data":{"object":{}}}`,
		"livemode a string":         `{"id":"evt_1","type":"charge.refunded","livemode":"yes","data":{"object":{}}}`,
		"api version a number":      `{"id":"evt_1","type":"charge.refunded","api_version":2023,"data":{"object":{}}}`,
		"id a number":               `{"id":1,"type":"charge.refunded","data":{"object":{}}}`,
		"empty type":                `{"id":"evt_1","type":"","data":{"object":{}}}`,
		"data an array":             `{"id":"evt_1","type":"charge.refunded","data":[{"object":{}}]}`,
		"object an array":           `{"id":"evt_1","type":"charge.refunded","data":{"object":[]}}`,
		"object given twice":        `{"id":"evt_1","type":"charge.refunded","data":{"object":"ch_1","object":{"id":"ch_1"}}}`,
		"a key in upper case":       `{"ID":"evt_1","type":"charge.refunded","data":{"object":{}}}`,
		"a key in two cases":        `{"id":"evt_1","ID":"evt_2","type":"charge.refunded","data":{"object":{}}}`,
		"a name key in two cases":   `{"id":"evt_1","type":"charge.refunded","data":{"object":{"payment_intent":"pi_1","Payment_Intent":"pi_2"}}}`,
		"an id with an escape":      `{"id":"evt_\u00e9","type":"charge.refunded","data":{"object":{}}}`,
		"invalid UTF-8 in a name":   "{\"id\":\"evt_1\",\"type\":\"charge.refunded\",\"data\":{\"object\":{\"payment_intent\":\"pi_\xff\"}}}",
		"a lone surrogate":          `{"id":"evt_1","type":"charge.refunded","data":{"object":{"client_reference_id":"\ud800"}}}`,
		"white space everywhere":    " {\n\t\"id\" : \"evt_1\" ,\"type\":\"charge.refunded\", \"data\" : { \"object\" :\n {\"id\":\"ch_1\"} } }\n",
		"an array":                  `[{"id":"evt_1","type":"charge.refunded","data":{"object":{}}}]`,
		"not JSON":                  `{"id":"evt_1",`,
		"trailing garbage":          `{"id":"evt_1","type":"charge.refunded","data":{"object":{}}} x`,
		"a NUL escaped in a string": `{"id":"evt_1","type":"charge.refunded","data":{"object":{"receipt_email":"a\u0000b"}}}`,
	} {
		bodies[name] = []byte(body)
	}
	fast := 0
	for name, body := range bodies {
		if why := readingsDiffer(body); why != "" {
			t.Errorf("%s: %s", name, why)
		}
		if _, ok := parseEventFast(body); ok {
			fast++
		}
	}
	if fast < 14 {
		t.Errorf("only %d bodies took the fast reading: every event we build should", fast)
	}
}

// TestParseEventKeepsNothingOfTheBody: gjson reads the body in place (view), so what an
// event keeps must be copies: the body's buffer overwritten afterwards changes nothing.
func TestParseEventKeepsNothingOfTheBody(t *testing.T) {
	t.Parallel()
	body := EventBuilder{}.WithEventID("evt_kept").CheckoutSessionCompleted("cs_k", "pi_k", "cus_k", 300, "paid",
		Meta{DonationID: "0b6a0d1e-1111-4222-8333-444455556666", Campaign: "fundraising-for-freedom"})
	ev, err := parseEvent(body)
	if err != nil {
		t.Fatal(err)
	}
	n := namesOf(ev)
	object := string(ev.Data.Raw)
	for i := range body {
		body[i] = 'x'
	}
	if string(ev.Data.Raw) != object {
		t.Error("the event's object changed with the body it was read from")
	}
	for i := range ev.Data.Raw {
		ev.Data.Raw[i] = 'y' // the names are read from the object: they must not change with it either
	}
	if ev.ID != "evt_kept" || ev.Type != "checkout.session.completed" || ev.APIVersion != "2023-10-16" ||
		n.payment != "pi_k" || n.donation != "0b6a0d1e-1111-4222-8333-444455556666" {
		t.Errorf("the event changed with the body it was read from: %+v %+v", ev.Event, n)
	}
}

// readingsDiffer says how parseEvent and namesOf read body otherwise than encoding/json alone
// does (parseEventStd, namesStd), or "" when they agree.
func readingsDiffer(body []byte) string {
	got, gotErr := parseEvent(body)
	want, wantErr := parseEventStd(body)
	if (gotErr == nil) != (wantErr == nil) || got.ID != want.ID || got.Type != want.Type || got.APIVersion != want.APIVersion ||
		got.Created != want.Created || got.Livemode != want.Livemode || (got.Data == nil) != (want.Data == nil) {
		return fmt.Sprintf("read as %+v (%v), encoding/json reads %+v (%v)", got.Event, gotErr, want.Event, wantErr)
	}
	if want.Data == nil {
		return ""
	}
	if !bytes.Equal(got.Data.Raw, want.Data.Raw) {
		return fmt.Sprintf("object %s, encoding/json reads %s", got.Data.Raw, want.Data.Raw)
	}
	if n, w := namesOf(got), namesStd(want.Data.Raw); n != w {
		return fmt.Sprintf("names %+v, encoding/json reads %+v", n, w)
	}
	return ""
}

// FuzzParseEvent holds the fast reading of events to encoding/json's, from the events we
// build and the bodies above.
func FuzzParseEvent(f *testing.F) {
	b := EventBuilder{}
	m := Meta{DonationID: "0b6a0d1e-1111-4222-8333-444455556666", Campaign: "fundraising-for-freedom"}
	for _, body := range [][]byte{
		b.CheckoutSessionCompleted("cs_1", "pi_1", "cus_1", 300, "paid", m),
		b.ChargeRefunded("ch_11", "pi_11", 300, 100, m),
		b.InvoicePaid("in_6", "sub_6", "cus_6", "ch_6", "pi_6", 1000, "subscription_cycle", m),
		[]byte(`{"id":"evt_1","type":"charge.refunded","data":{"object":{"payment_intent":{"id":"pi_x"},"metadata":{"donation_id":"D"}}}}`),
		[]byte(`{"id":"evt_1","ID":"evt_2","type":"t","created":1e3,"livemode":null,"data":{"object":{"client_reference_id":"\u00e9"}}}`),
	} {
		f.Add(body)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if why := readingsDiffer(body); why != "" {
			t.Errorf("%q: %s", body, why)
		}
	})
}

// TestParseEventOfADeepBodyStaysShallow: a body nested half a million deep (a megabyte of
// brackets, as a stranger may post) is refused by encoding/json at its depth limit, without
// the fast reading's recursion growing the stack by 64 MB first.
func TestParseEventOfADeepBodyStaysShallow(t *testing.T) {
	n := (MaxWebhookBody - 100) / 2
	body := []byte(`{"id":"evt_1","type":"charge.refunded","data":{"object":` + strings.Repeat("[", n) + strings.Repeat("]", n) + `}}`)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	ev, err := parseEvent(body)
	runtime.ReadMemStats(&after)
	if err == nil || !strings.HasPrefix(ev.ID, "malformed_") {
		t.Errorf("a body nested %d deep read as %q, %v", n, ev.ID, err)
	}
	if grown := int64(after.StackSys) - int64(before.StackSys); grown > 4<<20 {
		t.Errorf("reading it grew the stacks by %d MiB", grown>>20)
	}
}
