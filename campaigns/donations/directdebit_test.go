package donations_test

import (
	"testing"
	"time"

	"giving/campaigns/donations"
)

// A Direct Debit is first collected three working days after it is set up, counting London
// days and skipping weekends.
func TestFirstCollection(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		at   time.Time
		want string
	}{
		{"a Monday", time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC), "10 December 2026"},
		{"a Thursday: over the weekend", time.Date(2026, 12, 10, 10, 0, 0, 0, time.UTC), "15 December 2026"},
		{"a Friday", time.Date(2026, 12, 11, 16, 0, 0, 0, time.UTC), "16 December 2026"},
		{"a Saturday", time.Date(2026, 12, 12, 9, 0, 0, 0, time.UTC), "16 December 2026"},
		{"a Sunday evening in UTC that is Monday in London (summer time)", time.Date(2026, 5, 31, 23, 30, 0, 0, time.UTC), "4 June 2026"},
	} {
		if got := donations.UKDate(donations.FirstCollection(tc.at)); got != tc.want {
			t.Errorf("%s (%s): collected around %s, want %s", tc.name, tc.at, got, tc.want)
		}
	}
}
