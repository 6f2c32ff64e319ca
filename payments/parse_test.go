package payments

import (
	"strings"
	"testing"
)

// BenchmarkParseEvent is what every delivery pays to read an event before storing it, and
// every apply before applying it: a checkout.session.completed, the largest event we use.
func BenchmarkParseEvent(b *testing.B) {
	body := EventBuilder{}.CheckoutSessionCompleted("cs_bench", "pi_bench", "cus_bench", 300, "paid",
		Meta{DonationID: "00000000-0000-4000-8000-000000000000", Campaign: "fundraising-for-freedom"})
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parseEvent(body); err != nil {
			b.Fatal(err)
		}
	}
}

// A delivery is applied only when it has an id, a type and an object; anything else is
// stored as malformed for review, under an id made from its bytes.
func TestParseEvent(t *testing.T) {
	t.Parallel()
	good := EventBuilder{}.CheckoutSessionCompleted("cs_p", "pi_p", "cus_p", 300, "paid", Meta{Campaign: "fundraising-for-freedom"})
	ev, err := parseEvent(good)
	if err != nil || ev.Type != "checkout.session.completed" || ev.APIVersion != "2023-10-16" || ev.Created == 0 ||
		ev.Livemode || !strings.HasPrefix(ev.ID, "evt_") || paymentOf(ev) != "pi_p" {
		t.Fatalf("parsed %+v, %v", ev.Event, err)
	}
	var s struct {
		ID string `json:"id"`
	}
	if err := decode(ev, &s); err != nil || s.ID != "cs_p" {
		t.Fatalf("the object decodes to %+v, %v", s, err)
	}
	for name, body := range map[string]string{
		"not JSON":           `{"id":"evt_1",`,
		"no id":              `{"type":"charge.refunded","data":{"object":{}}}`,
		"no type":            `{"id":"evt_1","data":{"object":{}}}`,
		"no data":            `{"id":"evt_1","type":"charge.refunded"}`,
		"no object":          `{"id":"evt_1","type":"charge.refunded","data":{}}`,
		"object is a string": `{"id":"evt_1","type":"charge.refunded","data":{"object":"ch_1"}}`,
		"object is null":     `{"id":"evt_1","type":"charge.refunded","data":{"object":null}}`,
		"created is text":    `{"id":"evt_1","type":"charge.refunded","created":"today","data":{"object":{}}}`,
	} {
		ev, err := parseEvent([]byte(body))
		if err == nil || !strings.HasPrefix(ev.ID, "malformed_") || ev.typ() != "malformed" {
			t.Errorf("%s: parsed as %q (%v), want malformed", name, ev.ID, err)
		}
	}
	if _, err := parseEvent([]byte(`{"id":"evt_1","type":"charge.refunded","data":{"object": ` + "\n\t" + `{"id":"ch_1"}}}`)); err != nil {
		t.Errorf("an object after white space: %v", err)
	}
}
