package payments_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stripe/stripe-go/v76"

	"giving/payments"
)

// A Direct Debit gift's session offers exactly Bacs: the donor chose it on our form, and
// the fee she may have covered is Bacs's, not card's.
func TestSessionParamsDirectDebit(t *testing.T) {
	for _, monthly := range []bool{false, true} {
		r := checkoutRequest(monthly)
		r.PaymentMethod = "bacs_debit"
		p, err := payments.SessionParams(r)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.PaymentMethodTypes) != 1 || *p.PaymentMethodTypes[0] != "bacs_debit" {
			t.Errorf("monthly %v: payment_method_types %d long, want [bacs_debit]", monthly, len(p.PaymentMethodTypes))
		}
	}
	r := checkoutRequest(false)
	r.PaymentMethod = "sepa_debit"
	if _, err := payments.SessionParams(r); err == nil {
		t.Error("a payment method other than card or bacs_debit was accepted")
	}
}

// stripe-mock (the 2023-10-16 spec) accepts the Checkout requests for both modes with
// bacs_debit, and refuses an unknown payment method type, so the acceptance means something.
func TestCreateSessionDirectDebitStripeMock(t *testing.T) {
	api := stripeMock(t)
	for _, monthly := range []bool{false, true} {
		r := checkoutRequest(monthly)
		r.PaymentMethod, r.CustomerEmail = "bacs_debit", "donor@example.org"
		r.Amount = decimal.RequireFromString("10.00")
		sess, err := payments.StripeCheckout{API: api}.CreateSession(context.Background(), r)
		if err != nil {
			t.Fatalf("monthly %v: stripe-mock refused a Direct Debit session: %v", monthly, err)
		}
		if !strings.HasPrefix(sess.ID, "cs_") {
			t.Errorf("monthly %v: session %+v", monthly, sess)
		}
	}
	p, err := payments.SessionParams(checkoutRequest(true))
	if err != nil {
		t.Fatal(err)
	}
	p.PaymentMethodTypes = []*string{stripe.String("bank_by_pigeon")}
	_, err = api.CheckoutSessions.New(p)
	var se *stripe.Error
	if !errors.As(err, &se) || se.HTTPStatusCode != http.StatusBadRequest {
		t.Fatalf("stripe-mock accepted payment_method_types=[bank_by_pigeon]: %v", err)
	}
}

// Bacs costs 1% + 20p, at most £2: above the cap the donor covers exactly £2, and below it
// the charity still receives the whole gift.
func TestBacsFeeCover(t *testing.T) {
	f := payments.DefaultBacsFees
	for _, tc := range []struct{ gift, cover string }{
		{"10.00", "0.30"},   // 10.30: fee 0.303 -> 0.30, leaves exactly 10.00
		{"500.00", "2.00"},  // the cap
		{"1000.00", "2.00"}, // the cap
	} {
		gift := decimal.RequireFromString(tc.gift)
		got := f.Cover(gift)
		total := gift.Add(got)
		if total.Sub(f.Fee(total)).LessThan(gift) {
			t.Errorf("%s: cover %s leaves the charity %s", tc.gift, got, total.Sub(f.Fee(total)))
		}
		less := total.Sub(decimal.New(1, -2))
		if !less.Sub(f.Fee(less)).LessThan(gift) {
			t.Errorf("%s: cover %s is a penny more than needed", tc.gift, got)
		}
		if !got.Equal(decimal.RequireFromString(tc.cover)) {
			t.Errorf("%s: cover %s, want %s", tc.gift, got, tc.cover)
		}
	}
	if fee := f.Fee(decimal.RequireFromString("1000.00")); !fee.Equal(decimal.RequireFromString("2.00")) {
		t.Errorf("fee on £1,000 = %s, want the £2.00 cap", fee)
	}
}
