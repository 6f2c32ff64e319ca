package giftaid_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"strings"
	"testing"

	"giving/campaigns/campaignstest"
	"giving/campaigns/donations"
	"giving/campaigns/giftaid"
)

// scheduleRows reads a claim's schedule as HMRC's spreadsheet would, by donor last name
// (aggregated rows under "(aggregated)").
func scheduleRows(t *testing.T, c giftaid.Claim) map[string][]string {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(claimCSV(t, c), []byte("\ufeff")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string][]string{}
	for _, r := range recs[1:] {
		key := r[2]
		if r[5] != "" {
			key = "(aggregated)"
		}
		rows[key] = r
	}
	return rows
}

// HMRC's schedule: a donor living outside the UK has the postcode "X" and her whole address
// in the house field; gifts on a page an admin checked as a sponsored event say "Yes" in
// the "Sponsored event" column (a small one too: it is never aggregated), and every other
// gift, including one on a page whose sponsored event still waits for its check, is blank.
func TestScheduleOverseasAndSponsoredRows(t *testing.T) {
	t.Parallel()
	w := newDonorWorld(t)
	ctx := context.Background()
	sam := campaignstest.AddFundraiser(t, w.S, w.Appeal.ID, "sam")
	if _, err := w.S.Pool().Exec(ctx, `UPDATE fundraisers SET sponsored_event = CASE id WHEN $1 THEN 'approved' ELSE 'requested' END
		WHERE id IN ($1, $2)`, w.Ruby, sam); err != nil {
		t.Fatal(err)
	}
	give := func(last, house, postcode, amount string, page int64, day int) {
		t.Helper()
		at := campaignstest.UTC(2026, 3, day, 10, 0)
		w.at = at
		dn := w.Donation(donations.NewDonation{Amount: d(amount), FundraiserID: page,
			Declaration: campaignstest.Declaration("", "A", last, house, postcode)})
		w.Gift(dn, "pi_"+last, "", "pi_"+last, amount, "0.20", at)
	}
	const paris = "12 Rue de la Paix, 75002 Paris, France"
	give("Dubois", paris, giftaid.OverseasPostcode, "50.00", 0, 1)
	give("Runner", "3", "M1 1AE", "40.00", w.Ruby, 2)
	give("Small", "4", "M1 1AE", "15.00", w.Ruby, 3)
	give("Waiting", "5", "M1 1AE", "30.00", sam, 4)
	give("Aggregate", "6", "M1 1AE", "10.00", 0, 5)

	c := mustClaim(t, w, campaignstest.UTC(2026, 5, 1, 9, 0))
	rows := scheduleRows(t, c)
	want := map[string][]string{
		"Dubois":       {"", "A", "Dubois", paris, "X", "", "", "01/03/26", "50.00"},
		"Runner":       {"", "A", "Runner", "3", "M1 1AE", "", "Yes", "02/03/26", "40.00"},
		"Small":        {"", "A", "Small", "4", "M1 1AE", "", "Yes", "03/03/26", "15.00"},
		"Waiting":      {"", "A", "Waiting", "5", "M1 1AE", "", "", "04/03/26", "30.00"},
		"(aggregated)": {"", "", "", "", "", giftaid.AggregatedDescription, "", "05/03/26", "10.00"},
	}
	if len(rows) != len(want) {
		t.Errorf("schedule has %d rows %q, want %d", len(rows), rows, len(want))
	}
	for k, wr := range want {
		if got := strings.Join(rows[k], "|"); got != strings.Join(wr, "|") {
			t.Errorf("row %s:\n got %s\nwant %s", k, got, strings.Join(wr, "|"))
		}
	}
	for _, warning := range c.Warnings {
		t.Errorf("the overseas address is warned about: %s", warning)
	}
}
