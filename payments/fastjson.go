package payments

import (
	"encoding/json"
	"strconv"
	"strings"
	"unsafe"

	"github.com/stripe/stripe-go/v76"
	"github.com/tidwall/gjson"
)

// Every delivery is read when it arrives and again when it is applied, and its names once
// more, so the common case is read with gjson (parseEventFast, namesFast): in place, one pass
// over each object. The fast reading only answers when it is sure encoding/json would read
// the same; anything unusual (a name in other case, an escape or a byte outside printable
// ASCII in a string kept, a field of an unexpected type) is read by encoding/json instead,
// whose verdict stands. FuzzParseEvent holds the two readings to agreeing.

// view is b read as a string without copying it, for gjson to read: what gjson returns
// from it points into b, so whatever is kept is copied (strings.Clone, a conversion to
// []byte) and nothing read from it outlives b's bytes as they were.
func view(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// maxFastBody bounds the bodies the fast reading takes: gjson's check that a body is JSON
// recurses once a level of nesting (a megabyte of '[' grows a goroutine's stack by some
// 64 MB), where encoding/json's is iterative and stops at 10,000 levels. A Stripe event is a
// few kilobytes; a bigger body goes to encoding/json, and the most this reading can nest is
// half of this.
const maxFastBody = 32 << 10

// members reads, in one pass over the object obj, the members named in want into out (in
// want's order); a name given twice counts the last time, as encoding/json has it. It
// reports false when a member's name matches one of want only without regard to case,
// which encoding/json would take as that field too.
func members(obj gjson.Result, want []string, out []gjson.Result) bool {
	sure := true
	obj.ForEach(func(k, v gjson.Result) bool {
		for i, w := range want {
			if k.Str == w {
				out[i] = v
				return true
			}
		}
		for _, w := range want {
			if strings.EqualFold(k.Str, w) {
				sure = false
				return false
			}
		}
		return true
	})
	return sure
}

// plainString is whether r is a string of printable ASCII written without escapes, which
// every reader reads alike.
func plainString(r gjson.Result) bool {
	if r.Type != gjson.String || len(r.Raw) < 2 {
		return false
	}
	for i := 1; i < len(r.Raw)-1; i++ {
		if c := r.Raw[i]; c < 0x20 || c >= 0x7f || c == '\\' {
			return false
		}
	}
	return true
}

// absent is whether r is missing or null: what leaves a Go field as it was.
func absent(r gjson.Result) bool { return !r.Exists() || r.Type == gjson.Null }

var (
	headMembers      = []string{"id", "type", "api_version", "created", "livemode", "data"}
	objectMember     = []string{"object"}
	namesMembers     = []string{"client_reference_id", "metadata", "payment_intent"}
	donationIDMember = []string{"donation_id"}
	idMember         = []string{"id"}
)

// parseEventFast reads a well-formed event's head as parseEventStd would, and reports
// false for anything else.
func parseEventFast(body []byte) (event, bool) {
	if len(body) > maxFastBody || !gjson.ValidBytes(body) {
		return event{}, false
	}
	root := gjson.Parse(view(body))
	var f [6]gjson.Result
	var o [1]gjson.Result
	if !root.IsObject() || !members(root, headMembers, f[:]) {
		return event{}, false
	}
	id, typ, version, created, live, data := f[0], f[1], f[2], f[3], f[4], f[5]
	if !data.IsObject() || !members(data, objectMember, o[:]) || !o[0].IsObject() ||
		!plainString(id) || id.Str == "" || !plainString(typ) || typ.Str == "" ||
		!(absent(version) || plainString(version)) ||
		!(absent(live) || live.Type == gjson.True || live.Type == gjson.False) {
		return event{}, false
	}
	var at int64
	if !absent(created) {
		n, err := strconv.ParseInt(created.Raw, 10, 64) // a whole number, as int64 takes it
		if created.Type != gjson.Number || err != nil {
			return event{}, false
		}
		at = n
	}
	return event{Event: stripe.Event{ID: strings.Clone(id.Str), Type: stripe.EventType(strings.Clone(typ.Str)),
		APIVersion: strings.Clone(version.Str), Created: at, Livemode: live.Type == gjson.True,
		Data: &stripe.EventData{Raw: json.RawMessage(o[0].Raw)}}}, true
}

// namesFast reads an object's names as namesStd would, and reports false when it is not
// sure it reads them alike.
func namesFast(raw []byte) (names, bool) {
	var f [3]gjson.Result
	if len(raw) > maxFastBody || !members(gjson.Parse(view(raw)), namesMembers, f[:]) {
		return names{}, false
	}
	ref, meta, payment := f[0], f[1], f[2]
	var donation, paymentID [1]gjson.Result
	switch {
	case meta.IsObject():
		if !members(meta, donationIDMember, donation[:]) {
			return names{}, false
		}
	case !absent(meta):
		return names{}, true // metadata that is not an object: encoding/json fails, no names
	}
	for _, r := range []gjson.Result{ref, donation[0]} {
		switch {
		case absent(r):
		case r.Type != gjson.String:
			return names{}, true // encoding/json fails on it: no names
		case !plainString(r):
			return names{}, false
		}
	}
	n := names{donation: strings.Clone(strings.ToLower(firstNonEmpty(ref.Str, donation[0].Str)))}
	switch {
	case payment.Type == gjson.String:
		if !plainString(payment) {
			return names{}, false
		}
		n.payment = strings.Clone(payment.Str)
	case payment.IsObject():
		if !members(payment, idMember, paymentID[:]) {
			return names{}, false
		}
		switch id := paymentID[0]; {
		case id.Type != gjson.String:
		case !plainString(id):
			return names{}, false
		default:
			n.payment = strings.Clone(id.Str)
		}
	}
	return n, true
}

// namesStd reads an object's names with encoding/json.
func namesStd(raw []byte) names {
	var o struct {
		PaymentIntent     json.RawMessage `json:"payment_intent"`
		ClientReferenceID string          `json:"client_reference_id"`
		Metadata          struct {
			DonationID string `json:"donation_id"`
		} `json:"metadata"`
	}
	if json.Unmarshal(raw, &o) != nil {
		return names{}
	}
	n := names{donation: strings.ToLower(firstNonEmpty(o.ClientReferenceID, o.Metadata.DonationID))}
	if len(o.PaymentIntent) == 0 || json.Unmarshal(o.PaymentIntent, &n.payment) == nil {
		return n
	}
	var obj struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(o.PaymentIntent, &obj)
	n.payment = obj.ID
	return n
}
