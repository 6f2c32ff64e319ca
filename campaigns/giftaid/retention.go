package giftaid

import (
	"time"

	"giving/campaigns"
)

// GiftAidRetentionYears is how long after the end of the accounting period of the last
// gift a declaration covers HMRC requires it to be kept.
const GiftAidRetentionYears = 6

// GiftAidKeepUntil is the last day (in London) a declaration whose last gift was at
// lastGift must be kept: six years after the end of that gift's accounting period.
func GiftAidKeepUntil(lastGift time.Time) time.Time {
	return AccountingPeriodEnd(lastGift).AddDate(GiftAidRetentionYears, 0, 0)
}

// AccountingPeriodEnd is the last day (in London) of the accounting period holding t:
// 5 April, the end of the UK tax year, which HMRC's time limits use for a charitable trust.
func AccountingPeriodEnd(t time.Time) time.Time {
	d := t.In(campaigns.London())
	year := d.Year()
	if d.Month() > time.April || (d.Month() == time.April && d.Day() > 5) {
		year++
	}
	return time.Date(year, time.April, 5, 0, 0, 0, 0, campaigns.London())
}
