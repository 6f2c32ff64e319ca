package giftaid

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"giving/campaigns"
	"giving/campaigns/accounts"
	"giving/campaigns/audit"
	"giving/campaigns/dbq"
)

// The HMRC Charities Online claim schedule (the package documentation): what a row may hold.
const (
	AggregatedDescription = "Small online donations" // at most 35 characters
	maxTitle              = 4
	maxName               = 35
	maxHouse              = 40 // HMRC's limit for "House name or number"
	maxDescription        = 35
	maxNote               = 100
)

// DefaultAggregationLimit is the size at or under which a gift may go into an aggregated
// row. It has been £20; a 2025 gov.uk page reads "under £30", so it is a setting.
var DefaultAggregationLimit = decimal.New(20_00, -2)

// maxAggregateRow is HMRC's ceiling for one aggregated row.
var maxAggregateRow = decimal.New(1000_00, -2)

// ErrNothingToClaim is MakeClaim's answer when no unclaimed gift is eligible.
var ErrNothingToClaim = errors.New("no unclaimed Gift Aid gifts to claim")

// claimLockKey serialises claims against each other and against refunds that call
// BlockClaims, so a refund is either netted by a claim or sees its gift as claimed.
const claimLockKey int64 = 7_361_942_003

// ClaimOptions choose what a claim includes and how it is laid out.
type ClaimOptions struct {
	// AggregationLimit: gifts at or under it are aggregated. Zero means
	// DefaultAggregationLimit; it may not exceed £1,000 (an aggregated row's ceiling).
	AggregationLimit decimal.Decimal
	// Upto: only gifts that occurred before it. Zero: every gift so far.
	Upto time.Time
	// Actor is who made the claim: recorded on it and in the audit log.
	Actor accounts.User
	// Now is when the claim is made, for HMRC's time limit (zero: the store's clock).
	Now time.Time
	// AppealID: only that appeal's gifts, and the adjustments for refunds on it. Zero:
	// every appeal's.
	AppealID int64
}

// ClaimTimeLimitYears: a gift can be claimed until this many years after the end of its
// accounting period (HMRC's rule).
const ClaimTimeLimitYears = 4

// claimDeadline is the last day (in London) a gift made at t can be claimed on.
func claimDeadline(t time.Time) time.Time {
	return AccountingPeriodEnd(t).AddDate(ClaimTimeLimitYears, 0, 0)
}

// ClaimRow is one row of the HMRC schedule. A named row carries the donor from the
// Gift Aid declaration; an aggregated row has Aggregated set and no name or address.
type ClaimRow struct {
	Title, FirstName, LastName, House, Postcode string
	Aggregated                                  string
	Sponsored                                   bool
	Date                                        time.Time // the latest gift on the row
	Amount                                      decimal.Decimal
	Gifts                                       []int64 // the ledger gift entries on the row
}

// ClaimAdjustment corrects an earlier claim for a gift refunded after it was claimed.
type ClaimAdjustment struct {
	ID            int64
	RefundEntryID int64
	GiftEntryID   int64
	RefundedAt    time.Time
	TaxAmount     decimal.Decimal
	Note          string
}

// Claim is a Gift Aid claim: the schedule rows, the adjustments it carries and its totals.
type Claim struct {
	ID          int64 // 0 for a preview
	CreatedAt   time.Time
	CreatedBy   string
	Rows        []ClaimRow
	Adjustments []ClaimAdjustment
	// Total is the sum of the row amounts (the donations claimed on).
	Total decimal.Decimal
	// Tax is Total times the appeal's Gift Aid rate, rounded down once to the penny.
	Tax decimal.Decimal
	// AdjustmentTotal is the tax given back for refunds of earlier claims; never more
	// than Tax.
	AdjustmentTotal decimal.Decimal
	// Entries are every ledger entry the claim locks: the gifts and the refunds and lost
	// disputes netted from them.
	Entries []int64
	// Warnings name rows a trustee should check before submitting (an address HMRC will
	// refuse). They never carry an address.
	Warnings []string
}

// NetTax is what the claim asks HMRC for once the adjustments are taken off.
func (c Claim) NetTax() decimal.Decimal { return c.Tax.Sub(c.AdjustmentTotal) }

// claimGift is one eligible ledger gift with the money already returned on it.
type claimGift struct {
	id, appealID                        int64
	rate, net                           decimal.Decimal
	at                                  time.Time
	monthly, sponsored                  bool
	declaration                         string
	title, first, last, house, postcode string
	related                             []int64 // refunds and disputes netted
}

func claimableGifts(ctx context.Context, db campaigns.DB, upto time.Time, appealID int64) ([]claimGift, error) {
	var bound *time.Time
	if !upto.IsZero() {
		bound = &upto
	}
	// The query (dbq.ClaimableGifts) says which gifts a claim may include and nets refunds and disputes.
	rows, err := dbq.New(db).ClaimableGifts(ctx, dbq.ClaimableGiftsParams{Upto: bound, AppealID: appealID})
	if err != nil {
		return nil, fmt.Errorf("read claimable gifts: %w", err)
	}
	var out []claimGift
	for _, r := range rows {
		// A fully refunded gift is not claimed; an open dispute waits for its outcome.
		if r.OpenDispute || r.Net.Sign() <= 0 {
			continue
		}
		out = append(out, claimGift{id: r.ID, appealID: r.AppealID, rate: r.GiftAidRate, net: r.Net, at: r.OccurredAt,
			monthly: r.Monthly, declaration: r.DeclarationID, title: r.Title, first: r.FirstName, last: r.LastName,
			house: r.House, postcode: r.Postcode, related: r.Related, sponsored: r.Sponsored})
	}
	return out, nil
}

// withinTimeLimit keeps the gifts that can still be claimed at now, and counts the rest.
func withinTimeLimit(gifts []claimGift, now time.Time) (kept []claimGift, late int, lateAmount decimal.Decimal) {
	today := now.In(campaigns.London())
	for _, g := range gifts {
		if today.Before(claimDeadline(g.at).AddDate(0, 0, 1)) {
			kept = append(kept, g)
			continue
		}
		late++
		lateAmount = lateAmount.Add(g.net)
	}
	return kept, late, lateAmount
}

// buildClaim lays eligible gifts out as schedule rows. Gifts above the aggregation limit
// get a named row, a donor's monthly gifts sharing one; gifts at or under it are summed,
// oldest first, into aggregated rows of at most £1,000. A sponsored gift (a page an admin
// checked as a sponsored event) always gets a named row marked Sponsored: HMRC's schedule
// takes "Yes" in that column only on a row with the donor's name, never an aggregate. A
// donor living outside the UK has the postcode "X" and her full address in the house field.
func buildClaim(gifts []claimGift, limit decimal.Decimal) Claim {
	var c Claim
	named := map[string]*ClaimRow{}
	var order []string
	var small []claimGift
	type appealSum struct{ sum, rate decimal.Decimal }
	byAppeal := map[int64]*appealSum{}
	for _, g := range gifts {
		c.Entries = append(c.Entries, g.id)
		c.Entries = append(c.Entries, g.related...)
		if s := byAppeal[g.appealID]; s != nil {
			s.sum = s.sum.Add(g.net)
		} else {
			byAppeal[g.appealID] = &appealSum{g.net, g.rate}
		}
		if g.net.LessThanOrEqual(limit) && !g.sponsored {
			small = append(small, g)
			continue
		}
		key := fmt.Sprintf("gift:%d", g.id)
		if g.monthly {
			key = fmt.Sprintf("monthly:%s:%v", g.declaration, g.sponsored)
		}
		r := named[key]
		if r == nil {
			r = &ClaimRow{Sponsored: g.sponsored}
			named[key] = r
			order = append(order, key)
			if pc, ok := NormalisePostcode(g.postcode); ok {
				r.Postcode = pc
			} else if strings.TrimSpace(g.postcode) == OverseasPostcode {
				r.Postcode = OverseasPostcode
			} else {
				r.Postcode = strings.ToUpper(strings.TrimSpace(g.postcode))
				c.Warnings = append(c.Warnings, fmt.Sprintf("gift %d: the declaration's postcode is not a UK postcode", g.id))
			}
			r.Title, r.FirstName, r.LastName, r.House = hmrcTitle(g.title), hmrcFirstName(g.first), hmrcLastName(g.last), hmrcHouse(g.house)
			if r.House == "" {
				c.Warnings = append(c.Warnings, fmt.Sprintf("gift %d: the declaration has no house name or number", g.id))
			}
		}
		r.Amount = r.Amount.Add(g.net)
		if g.at.After(r.Date) {
			r.Date = g.at
		}
		r.Gifts = append(r.Gifts, g.id)
	}
	for _, k := range order {
		c.Rows = append(c.Rows, *named[k])
	}
	sort.SliceStable(c.Rows, func(i, j int) bool {
		a, b := c.Rows[i], c.Rows[j]
		if !a.Date.Equal(b.Date) {
			return a.Date.Before(b.Date)
		}
		return a.Gifts[0] < b.Gifts[0]
	})
	var agg *ClaimRow
	for _, g := range small { // already in date order
		if agg == nil || agg.Amount.Add(g.net).GreaterThan(maxAggregateRow) {
			c.Rows = append(c.Rows, ClaimRow{Aggregated: AggregatedDescription})
			agg = &c.Rows[len(c.Rows)-1]
		}
		agg.Amount = agg.Amount.Add(g.net)
		if g.at.After(agg.Date) {
			agg.Date = g.at
		}
		agg.Gifts = append(agg.Gifts, g.id)
	}
	c.Total, c.Tax = decimal.Zero, decimal.Zero
	for _, r := range c.Rows {
		c.Total = c.Total.Add(r.Amount)
	}
	// HMRC computes the tax on the total, so it is rounded once, down, never per gift.
	for _, s := range byAppeal {
		c.Tax = c.Tax.Add(s.sum.Mul(s.rate))
	}
	c.Tax = c.Tax.RoundFloor(2)
	c.AdjustmentTotal = decimal.Zero
	return c
}

// pendingAdjustments reads the queued adjustments, oldest first, and keeps those that fit
// within tax: an adjustment never takes a claim below zero; one that does not fit waits
// for a larger claim.
func pendingAdjustments(ctx context.Context, db campaigns.DB, tax decimal.Decimal, forUpdate bool, appealID int64) ([]ClaimAdjustment, decimal.Decimal, error) {
	var rows []dbq.PendingAdjustmentsRow
	var err error
	if forUpdate {
		var locked []dbq.PendingAdjustmentsForUpdateRow
		locked, err = dbq.New(db).PendingAdjustmentsForUpdate(ctx, appealID)
		for _, r := range locked {
			rows = append(rows, dbq.PendingAdjustmentsRow(r))
		}
	} else {
		rows, err = dbq.New(db).PendingAdjustments(ctx, appealID)
	}
	if err != nil {
		return nil, decimal.Zero, fmt.Errorf("read gift aid adjustments: %w", err)
	}
	var out []ClaimAdjustment
	sum := decimal.Zero
	for _, r := range rows {
		a := ClaimAdjustment{ID: r.ID, RefundEntryID: r.RefundEntryID, GiftEntryID: r.GiftEntryID, RefundedAt: r.RefundedAt,
			TaxAmount: r.TaxAmount, Note: r.Note}
		if sum.Add(a.TaxAmount).GreaterThan(tax) {
			continue
		}
		sum = sum.Add(a.TaxAmount)
		out = append(out, a)
	}
	return out, sum, nil
}

func prepareClaim(ctx context.Context, db campaigns.DB, opt ClaimOptions, forUpdate bool) (Claim, error) {
	limit := opt.AggregationLimit
	if limit.IsZero() {
		limit = DefaultAggregationLimit
	}
	if limit.Sign() < 0 || limit.GreaterThan(maxAggregateRow) {
		return Claim{}, fmt.Errorf("gift aid claim: aggregation limit %s must be between 0 and 1000.00: %w", limit.StringFixed(2),
			&campaigns.ValidationError{Fields: map[string]string{"aggregation_limit": "Enter an amount up to £1,000.00"}})
	}
	gifts, err := claimableGifts(ctx, db, opt.Upto, opt.AppealID)
	if err != nil {
		return Claim{}, err
	}
	gifts, late, lateAmount := withinTimeLimit(gifts, opt.Now)
	c := buildClaim(gifts, limit)
	if late > 0 {
		msg := fmt.Sprintf("%d gifts (£%s) are more than %d years past the end of their accounting period: HMRC no longer accepts a claim on them, so they are left out",
			late, lateAmount.StringFixed(2), ClaimTimeLimitYears)
		if late == 1 {
			msg = fmt.Sprintf("1 gift (£%s) is more than %d years past the end of its accounting period: HMRC no longer accepts a claim on it, so it is left out",
				lateAmount.StringFixed(2), ClaimTimeLimitYears)
		}
		c.Warnings = append(c.Warnings, msg)
	}
	c.CreatedBy = opt.Actor.Email
	if len(c.Rows) == 0 {
		return c, nil
	}
	c.Adjustments, c.AdjustmentTotal, err = pendingAdjustments(ctx, db, c.Tax, forUpdate, opt.AppealID)
	return c, err
}

// PrepareClaim shows the claim MakeClaim would make now, changing nothing. A claim with no
// rows means there is nothing to claim.
func PrepareClaim(ctx context.Context, s *campaigns.Store, opt ClaimOptions) (Claim, error) {
	opt = claimOptions(s, opt)
	var c Claim
	// One snapshot, so the rows and the adjustments agree.
	err := pgx.BeginTxFunc(ctx, s.Pool(), pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		var err error
		c, err = prepareClaim(ctx, tx, opt, false)
		return err
	})
	return c, err
}

// claimOptions fills the time of a claim from the store's clock when the caller left it.
func claimOptions(s *campaigns.Store, opt ClaimOptions) ClaimOptions {
	if opt.Now.IsZero() {
		opt.Now = s.Now()
	}
	return opt
}

// ExportClaimPreview is PrepareClaim for a schedule that leaves the service (the command
// line's --preview writes donors' names and addresses to a file): it is audited, in the same
// transaction that reads the claim.
func ExportClaimPreview(ctx context.Context, s *campaigns.Store, opt ClaimOptions) (Claim, error) {
	opt = claimOptions(s, opt)
	var c Claim
	err := pgx.BeginTxFunc(ctx, s.Pool(), pgx.TxOptions{IsoLevel: pgx.RepeatableRead}, func(tx pgx.Tx) error {
		var err error
		if c, err = prepareClaim(ctx, tx, opt, false); err != nil || len(c.Rows) == 0 {
			return err
		}
		return audit.Write(ctx, tx, opt.Actor, "export gift aid preview",
			fmt.Sprintf("%d rows, total %s, tax %s", len(c.Rows), c.Total.StringFixed(2), c.Tax.StringFixed(2)))
	})
	return c, err
}

// MakeClaim makes the claim in one transaction: it records the claim, locks every ledger
// entry it includes (so no gift is ever claimed twice) and attaches the pending
// adjustments that fit. ErrNothingToClaim when no gift is eligible.
func MakeClaim(ctx context.Context, s *campaigns.Store, opt ClaimOptions) (Claim, error) {
	opt = claimOptions(s, opt)
	var c Claim
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		// Claims run one at a time, and refunds that call BlockClaims wait for this one.
		q := dbq.New(tx)
		if err := q.LockClaims(ctx, claimLockKey); err != nil {
			return fmt.Errorf("gift aid claim: lock: %w", err)
		}
		var err error
		if c, err = prepareClaim(ctx, tx, opt, true); err != nil {
			return err
		}
		if len(c.Rows) == 0 {
			return ErrNothingToClaim
		}
		row, err := q.InsertClaim(ctx, dbq.InsertClaimParams{CreatedAt: opt.Now, CreatedBy: opt.Actor.Email, Total: c.Total, Tax: c.Tax,
			AdjustmentTotal: c.AdjustmentTotal})
		if err != nil {
			return fmt.Errorf("gift aid claim: record claim: %w", err)
		}
		c.ID, c.CreatedAt = row.ID, row.CreatedAt
		if err := q.InsertClaimItems(ctx, dbq.InsertClaimItemsParams{EntryIds: c.Entries, ClaimID: c.ID}); err != nil {
			return fmt.Errorf("gift aid claim: lock claimed gifts: %w", err)
		}
		ids := make([]int64, len(c.Adjustments))
		for i, a := range c.Adjustments {
			ids[i] = a.ID
		}
		if err := q.AttachAdjustments(ctx, dbq.AttachAdjustmentsParams{Ids: ids, ClaimID: c.ID}); err != nil {
			return fmt.Errorf("gift aid claim: attach adjustments: %w", err)
		}
		// The schedule carries donors' names and addresses: the claim and its audit row are
		// committed together or not at all.
		detail := fmt.Sprintf("claim %d: %d rows, total %s, tax %s", c.ID, len(c.Rows), c.Total.StringFixed(2), c.Tax.StringFixed(2))
		if opt.AppealID != 0 {
			detail += fmt.Sprintf(", appeal %d only", opt.AppealID)
		}
		return audit.Write(ctx, tx, opt.Actor, "export gift aid claim", detail)
	})
	if err != nil {
		return Claim{}, err
	}
	return c, nil
}

// BlockClaims makes tx wait for a claim being made and holds claims off until tx ends. A
// transaction that checks whether a gift is claimed and then records a refund of it should
// call it first: otherwise a claim made in between neither nets the refund nor is
// adjusted for it.
func BlockClaims(ctx context.Context, tx pgx.Tx) error {
	return dbq.New(tx).BlockClaims(ctx, claimLockKey)
}

// ClaimCSVHeader is the HMRC schedule's columns, in HMRC's order.
var ClaimCSVHeader = []string{"Title", "First name", "Last name", "House name or number", "Postcode",
	"Aggregated donations", "Sponsored event", "Donation date", "Amount"}

// WriteClaimCSV writes the claim's schedule rows. Cells that do not apply are blank.
func WriteClaimCSV(w io.Writer, c Claim) error {
	out := campaigns.NewCSVWriter(w)
	out.Header(ClaimCSVHeader...)
	for _, r := range c.Rows {
		sponsored := ""
		if r.Sponsored {
			sponsored = "Yes"
		}
		out.Row(campaigns.CSVText(r.Title), campaigns.CSVText(r.FirstName), campaigns.CSVText(r.LastName), campaigns.CSVText(r.House), campaigns.CSVText(r.Postcode),
			campaigns.CSVText(clip(r.Aggregated, maxDescription)), campaigns.CSVText(sponsored), campaigns.CSVText(r.Date.In(campaigns.London()).Format("02/01/06")),
			campaigns.CSVAmount(r.Amount))
	}
	if err := out.Flush(); err != nil {
		return fmt.Errorf("write gift aid claim: %w", err)
	}
	return nil
}

// AdjustmentsCSVHeader is the adjustments file's columns.
var AdjustmentsCSVHeader = []string{"Refund date", "Tax amount", "Note", "Refund entry", "Gift entry"}

// WriteAdjustments writes the adjustments the claim carries: the tax to give back for
// each gift refunded after an earlier claim, with its note.
func WriteAdjustments(w io.Writer, c Claim) error {
	out := campaigns.NewCSVWriter(w)
	out.Header(AdjustmentsCSVHeader...)
	for _, a := range c.Adjustments {
		out.Row(campaigns.CSVText(a.RefundedAt.In(campaigns.London()).Format("02/01/06")), campaigns.CSVAmount(a.TaxAmount), campaigns.CSVText(clip(a.Note, maxNote)),
			campaigns.CSVText(fmt.Sprint(a.RefundEntryID)), campaigns.CSVText(fmt.Sprint(a.GiftEntryID)))
	}
	if err := out.Flush(); err != nil {
		return fmt.Errorf("write gift aid adjustments: %w", err)
	}
	return nil
}

// clip cuts s to at most n characters (not bytes), never mid-character.
func clip(s string, n int) string {
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return strings.TrimSpace(string([]rune(s)[:n]))
}

// longTitles shortens the usual long forms to HMRC's four characters.
var longTitles = map[string]string{
	"mister": "Mr", "doctor": "Dr", "professor": "Prof", "reverend": "Rev", "sister": "Sr",
	"father": "Fr", "master": "Mstr", "madam": "Mdm", "captain": "Capt", "lady": "Lady", "lord": "Lord",
}

// hmrcTitle is at most 4 characters; a longer title HMRC cannot take is left blank (the
// column is optional) rather than cut into something the donor never wrote.
func hmrcTitle(s string) string {
	s = strings.TrimSuffix(strings.TrimSpace(s), ".")
	if short, ok := longTitles[strings.ToLower(s)]; ok {
		return short
	}
	if utf8.RuneCountInString(s) > maxTitle {
		return ""
	}
	return s
}

// hmrcFirstName: an initial is enough, so a first name over 35 characters becomes its
// first word if that fits, else its initial.
func hmrcFirstName(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= maxName {
		return s
	}
	if first := strings.Fields(s)[0]; utf8.RuneCountInString(first) <= maxName {
		return first
	}
	r, _ := utf8.DecodeRuneInString(s)
	return string(r)
}

// hmrcLastName: a double-barrelled name takes a space, not a hyphen ("Smith-Jones" is
// "Smith Jones"), and at most 35 characters.
func hmrcLastName(s string) string {
	s = strings.NewReplacer("-", " ", "\u2010", " ", "\u2011", " ", "\u2013", " ").Replace(s)
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= maxName {
		return s
	}
	// Too long: keep whole names where one ends within the limit, never half of one.
	cut := string([]rune(s)[:maxName+1])
	if i := strings.LastIndexByte(cut, ' '); i > 0 {
		return cut[:i]
	}
	return clip(s, maxName)
}

func hmrcHouse(s string) string { return clip(strings.Join(strings.Fields(s), " "), maxHouse) }
