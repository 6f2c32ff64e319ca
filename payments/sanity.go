package payments

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"
)

// Sanity bounds: what a signed event from Stripe may say but cannot truthfully say about
// this charity's money. Such an event is stored as "review" with the reason instead of
// being applied, so no total can go negative or be swamped by a number no donor gave; a
// person looks at it ('giving events --outcome review') and, if it is right after all,
// 'giving events retry' applies it once the bound allows it.
//
//   - a refund larger than its charge, or than the gift recorded for it; a dispute larger
//     than the gift it disputes;
//   - an amount above GIFT_MAX times AmountSanityFactor;
//   - text with a NUL byte (PostgreSQL cannot store one in text, and no real name or
//     email address has one).

// AmountSanityFactor times GIFT_MAX is the largest amount one event may carry. GIFT_MAX
// bounds what a donor may give through the donation form, but money also reaches Stripe
// without it: a major gift through a Payment Link or the Stripe dashboard, a monthly price
// changed there. A hundred times the largest form gift (£1,000,000 at the default
// £10,000) lets any of those through and still stops an amount that would overflow a
// column (£9,999,999,999.99) or swamp an appeal's totals.
const AmountSanityFactor = 100

// reviewError is an event whose data cannot be true for this charity: it is stored as
// "review" with the reason, not applied.
type reviewError struct{ reason string }

func (e *reviewError) Error() string { return e.reason }

func needsReview(format string, args ...any) error {
	return &reviewError{fmt.Sprintf(format, args...)}
}

// bounds is what the sanity checks compare with, carried in the applying context.
type bounds struct {
	maxPence int64  // the largest amount one event may carry; 0: no check
	rule     string // how maxPence was reached, for the reason
}

type boundsKey struct{}

// withBounds returns ctx carrying the sanity bounds for a GIFT_MAX of giftMax (zero: the
// default limits').
func withBounds(ctx context.Context, giftMax decimal.Decimal) context.Context {
	if giftMax.Sign() <= 0 {
		giftMax = DefaultLimits.Max
	}
	max := giftMax.Mul(decimal.NewFromInt(AmountSanityFactor)).Shift(2).IntPart()
	if max > maxPence || max <= 0 {
		max = maxPence
	}
	return context.WithValue(ctx, boundsKey{}, bounds{maxPence: max,
		rule: fmt.Sprintf("GIFT_MAX %s x %d", FormatPounds(giftMax), AmountSanityFactor)})
}

// checkAmount refuses, for review, an amount (in pence) above the bound.
func checkAmount(ctx context.Context, what string, pence int64) error {
	b, _ := ctx.Value(boundsKey{}).(bounds)
	if b.maxPence == 0 {
		b.maxPence, b.rule = maxPence, "the largest amount that can be stored"
	}
	if pence > b.maxPence {
		return needsReview("%s of %s is above the sanity bound of %s (%s): not applied", what,
			formatPence(pence), FormatPounds(FromPence(b.maxPence)), b.rule)
	}
	if pence < 0 {
		return needsReview("%s of %s is negative: not applied", what, formatPence(pence))
	}
	return nil
}

// formatPence writes pence as pounds for a reason; amounts beyond int64's decimal range
// cannot reach here (encoding/json refuses them).
func formatPence(p int64) string { return FormatPounds(FromPence(p)) }

// nulText finds the first string in an event's object that holds a NUL byte and returns
// where it is ("customer_details.email"), or "" when there is none. Valid JSON can carry a
// NUL only escaped, so bodies without `\u0000` are passed over unread.
func nulText(raw json.RawMessage) string {
	if !bytes.Contains(raw, []byte(`\u0000`)) {
		return ""
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return ""
	}
	return findNUL(v, "")
}

func findNUL(v any, path string) string {
	switch t := v.(type) {
	case string:
		if strings.IndexByte(t, 0) >= 0 {
			return path
		}
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys) // the same event always names the same field
		for _, k := range keys {
			p := k
			if path != "" {
				p = path + "." + k
			}
			if strings.IndexByte(k, 0) >= 0 {
				return strconv.Quote(p) // a key with a NUL: name it printably
			}
			if found := findNUL(t[k], p); found != "" {
				return found
			}
		}
	case []any:
		for i, e := range t {
			if found := findNUL(e, fmt.Sprintf("%s[%d]", path, i)); found != "" {
				return found
			}
		}
	}
	return ""
}
