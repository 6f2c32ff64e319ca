package donors

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"giving/campaigns"
	"giving/campaigns/dbq"
	"giving/campaigns/donations"
	"giving/campaigns/ledger"
)

// Annual statements. A donor's statement for a UK tax year (6 April to the next 5 April,
// London time) lists every ledger entry of the donations her donor record links in that
// year: each gift, refund and dispute entry, with the appeal (and fundraiser page) it went
// to and whether Gift Aid could be claimed on it (its gift_aid_base is not zero). Its
// totals are sums of those entries, so they equal the ledger for her and that year. She
// downloads it as a PDF from the page where she manages her monthly gift (statement_pdf.go)
// and is emailed once a year, in April, that the last tax year's is ready
// (statement_mail.go).

// TaxYearOf is the UK tax year t falls in, named by the calendar year it starts in: 2025
// for 6 April 2025 to 5 April 2026. The day is London's: 23:30 UTC on 5 April in summer
// time is already 6 April.
func TaxYearOf(t time.Time) int {
	l := t.In(campaigns.London())
	if l.Month() < time.April || (l.Month() == time.April && l.Day() < 6) {
		return l.Year() - 1
	}
	return l.Year()
}

// TaxYearBounds is tax year y: from midnight on 6 April y, London time, until (excluded)
// midnight on 6 April y+1.
func TaxYearBounds(y int) (from, until time.Time) {
	return time.Date(y, time.April, 6, 0, 0, 0, 0, campaigns.London()),
		time.Date(y+1, time.April, 6, 0, 0, 0, 0, campaigns.London())
}

// TaxYearName is how the year is written, as HMRC writes it: "2025 to 2026".
func TaxYearName(y int) string { return fmt.Sprintf("%d to %d", y, y+1) }

// The kinds of statement line, as the ledger names them.
const (
	LineGift           = "gift"
	LineRefund         = "refund"
	LineDisputeHold    = "dispute_hold"
	LineDisputeRelease = "dispute_release"
	LineDisputeLost    = "dispute_lost"
)

// StatementLine is one ledger entry of the donor's.
type StatementLine struct {
	At         time.Time
	Appeal     string
	Fundraiser string // the fundraiser page's title; "" for a gift to the appeal itself
	Kind       string // LineGift, LineRefund, ...
	Monthly    bool
	Amount     decimal.Decimal // signed: a refund is negative
	GiftAid    bool            // Gift Aid may be claimed on it (or is taken back, for a refund)
}

// What is a line's kind as the donor reads it.
func (l StatementLine) What() string {
	switch l.Kind {
	case LineGift:
		if l.Monthly {
			return "Monthly gift"
		}
		return "Gift"
	case LineRefund:
		return "Refund"
	case LineDisputeHold:
		return "Disputed with your bank"
	case LineDisputeRelease:
		return "Dispute closed, gift kept"
	case LineDisputeLost:
		return "Returned by your bank"
	}
	return l.Kind
}

// To is where the money went: the appeal, and the fundraiser page if any.
func (l StatementLine) To() string {
	if l.Fundraiser != "" {
		return l.Appeal + " (" + l.Fundraiser + ")"
	}
	return l.Appeal
}

// Statement is a donor's statement for one tax year.
type Statement struct {
	DonorID string
	Email   string
	Name    string // the name on the card at her last checkout; "" when unknown
	TaxYear int
	From    time.Time // 6 April, London
	Until   time.Time // the next 6 April (excluded)
	Lines   []StatementLine
	// Given is the sum of her gifts; Refunded of the refunds (positive); Disputed what her
	// bank took back or holds (dispute entries, positive when money left). Net is what the
	// charity kept: Given - Refunded - Disputed, the sum of every line.
	Given, Refunded, Disputed, Net decimal.Decimal
	// GiftAidable is the net amount on which Gift Aid may be claimed.
	GiftAidable decimal.Decimal
	// GiftAidRates are the Gift Aid rates (tax per pound) of the appeals her Gift Aid-able
	// lines went to, lowest first (one, almost always); GiftAid is the Gift Aid the charity
	// can claim on GiftAidable at those rates, rounded down once per rate (ledger.GiftAidTax).
	GiftAidRates []decimal.Decimal
	GiftAid      decimal.Decimal
}

// GiftAidPerPound is what Gift Aid adds to each pound, from the appeals' rates: "25p", or
// "25p or 28p" when her gifts went to appeals with different rates; "" with no Gift Aid.
func (s Statement) GiftAidPerPound() string {
	var parts []string
	for _, r := range s.GiftAidRates {
		parts = append(parts, r.Shift(2).String()+"p")
	}
	return strings.Join(parts, " or ")
}

// Gifts is the number of gifts in the year.
func (s Statement) Gifts() int {
	n := 0
	for _, l := range s.Lines {
		if l.Kind == LineGift {
			n++
		}
	}
	return n
}

// BuildStatement builds the statement of donor record donorID for tax year taxYear from the
// ledger. ErrNotFound for a donor that does not exist or whose data was erased.
func BuildStatement(ctx context.Context, s *campaigns.Store, donorID string, taxYear int) (Statement, error) {
	return statementIn(ctx, s.Pool(), donorID, taxYear)
}

// StatementByEmail is the statement of the donor with this email (any case, spaces around).
func StatementByEmail(ctx context.Context, s *campaigns.Store, email string, taxYear int) (Statement, error) {
	r, err := RecordByEmail(ctx, s.Pool(), email)
	if err != nil {
		return Statement{}, err
	}
	return BuildStatement(ctx, s, r.ID, taxYear)
}

func statementIn(ctx context.Context, db dbq.DBTX, donorID string, taxYear int) (Statement, error) {
	q := dbq.New(db)
	d, err := q.StatementDonor(ctx, donations.UUIDOrNil(donorID))
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && d.Erased) {
		return Statement{}, fmt.Errorf("statement: %w", campaigns.ErrNotFound)
	}
	if err != nil {
		return Statement{}, fmt.Errorf("statement: %w", err)
	}
	from, until := TaxYearBounds(taxYear)
	rows, err := q.StatementEntries(ctx, dbq.StatementEntriesParams{DonorID: d.ID, FromAt: from, UntilAt: until})
	if err != nil {
		return Statement{}, fmt.Errorf("statement: %w", err)
	}
	st := Statement{DonorID: d.ID, Email: d.Email, Name: d.Name, TaxYear: taxYear, From: from, Until: until}
	byRate := map[string]decimal.Decimal{} // Gift Aid-able amount by the appeal's rate
	for _, r := range rows {
		if !r.GiftAidBase.IsZero() {
			k := r.GiftAidRate.String()
			if _, seen := byRate[k]; !seen {
				st.GiftAidRates = append(st.GiftAidRates, r.GiftAidRate)
			}
			byRate[k] = byRate[k].Add(r.GiftAidBase)
		}
		l := StatementLine{At: r.OccurredAt, Appeal: r.AppealName, Fundraiser: r.FundraiserTitle, Kind: r.Kind,
			Monthly: r.Monthly, Amount: r.Amount, GiftAid: !r.GiftAidBase.IsZero()}
		st.Lines = append(st.Lines, l)
		switch r.Kind {
		case LineGift:
			st.Given = st.Given.Add(r.Amount)
		case LineRefund:
			st.Refunded = st.Refunded.Sub(r.Amount)
		default:
			st.Disputed = st.Disputed.Sub(r.Amount)
		}
		st.Net = st.Net.Add(r.Amount)
		st.GiftAidable = st.GiftAidable.Add(r.GiftAidBase)
	}
	slices.SortFunc(st.GiftAidRates, func(a, b decimal.Decimal) int { return a.Cmp(b) })
	st.GiftAid = decimal.Zero
	for _, rate := range st.GiftAidRates {
		st.GiftAid = st.GiftAid.Add(ledger.GiftAidTax(byRate[rate.String()], rate))
	}
	return st, nil
}

// StatementYears lists the tax years in which donor record donorID gave, latest first.
func StatementYears(ctx context.Context, s *campaigns.Store, donorID string) ([]int, error) {
	ys, err := dbq.New(s.Pool()).StatementYears(ctx, donations.UUIDOrNil(donorID))
	if err != nil {
		return nil, fmt.Errorf("statement years: %w", err)
	}
	out := make([]int, len(ys))
	for i, y := range ys {
		out[i] = int(y)
	}
	return out, nil
}
