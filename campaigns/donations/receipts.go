package donations

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"giving/campaigns"
	"giving/campaigns/dbq"
	"giving/campaigns/giftaid"
	"giving/campaigns/ledger"
	"giving/campaigns/outbox"
)

// The emails a donor is sent about her money, in the charity's voice: a receipt for every
// paid gift (one-off, and each payment of a monthly gift), the confirmation that a monthly
// gift is set up, a note when a monthly payment fails, and one when Stripe gives up and the
// gift ends. Each is queued with outbox.QueueMail in the transaction that records the money
// fact, and only the first time that fact is seen: a row of donor_mail_facts per (donation,
// kind, Stripe object) is written with it, and a receipt is only queued for a ledger entry
// that is new. Replay rebuilds the ledger with no DonorMail, so it writes nothing to anyone.

// Charity is who the donor gave to, as every email to her names it: the settings
// CHARITY_NAME, CHARITY_NUMBER, CHARITY_ADDRESS and CHARITY_EMAIL.
type Charity struct {
	Name    string // the legal name
	Number  string // the registered charity number
	Address string // the postal address, one line (commas between parts)
	Email   string // where donors write to
}

// ManageLinkFunc returns the address at which the donor manages the monthly gift
// donationID (change, pause, cancel, update the card), in tx.
type ManageLinkFunc func(ctx context.Context, tx pgx.Tx, donationID string) (string, error)

// DonorMail writes and queues a donor's emails. A nil *DonorMail sends nothing.
type DonorMail struct {
	Charity Charity
	// BaseURL is the site's public address, for links to the appeal and fundraiser pages.
	BaseURL string
	// ManageLink, when set, gives each monthly gift's emails the donor's own link to manage
	// it; nil leaves the link out and points her to the charity's email instead.
	ManageLink ManageLinkFunc
}

// The kinds of donor email, as donor_mail_facts names them.
const (
	mailReceipt         = "receipt"
	mailMonthlySetUp    = "monthly_set_up"
	mailPaymentFailed   = "payment_failed"
	mailMonthlyEnded    = "monthly_ended"
	mailGiftAidDeclared = "gift_aid_declared"
)

// Receipt queues the receipt for a gift just recorded: amount paid on the donation at
// at, the money having moved through object (its payment intent or invoice). Call it
// only for a ledger entry that is new.
// With the first receipt of a donation that carries a Gift Aid declaration, it queues the
// confirmation of the declaration, once.
// Both are written from one read of the donation. Under a MailBatch's context (the
// webhook appliers' batches) the receipt is gathered instead, and written with the batch's
// others when it is flushed: a statement for all their donations, one for all their facts
// and one for all their messages, rather than three for each gift.
func (m *DonorMail) Receipt(ctx context.Context, tx pgx.Tx, donationID, object string, amount decimal.Decimal, at time.Time) error {
	if m == nil || donationID == "" {
		return nil
	}
	r := receiptOf{m: m, donationID: donationID, object: object, amount: amount, at: at}
	if b := MailBatchOf(ctx); b != nil {
		b.receipts = append(b.receipts, r)
		return nil
	}
	return writeReceipts(ctx, tx, []receiptOf{r})
}

// receiptOf is a receipt to write: Receipt's arguments.
type receiptOf struct {
	m          *DonorMail
	donationID string
	object     string
	amount     decimal.Decimal
	at         time.Time
}

// writeReceipts writes the receipts rs, and the confirmations of the declarations they
// bring, with one statement for their donations, one for their facts and one for their
// messages, however many there are.
func writeReceipts(ctx context.Context, tx pgx.Tx, rs []receiptOf) error {
	if len(rs) == 0 {
		return nil
	}
	ids, ats := make([]string, len(rs)), make([]time.Time, len(rs))
	for i, r := range rs {
		ids[i], ats[i] = r.donationID, r.at
	}
	vs, err := details(ctx, tx, mailReceipt, ids, ats)
	if err != nil {
		return err
	}
	ls := make([]letter, 0, len(rs))
	for i, r := range rs {
		v := vs[i]
		ls = append(ls, letter{v: v, donationID: r.donationID, kind: mailReceipt, fact: r.object, at: r.at,
			write: func(v view) (string, string, error) {
				return r.m.receipt(ctx, tx, r.donationID, v, r.object, r.amount, r.at)
			}})
		// The confirmation of the declaration made with the donation, once (its fact is the
		// donation's one declaration), if it is still in force.
		if covered(v, r.at) {
			ls = append(ls, letter{v: v, donationID: r.donationID, kind: mailGiftAidDeclared, fact: "declaration", at: r.at,
				write: func(v view) (string, string, error) {
					return "Your Gift Aid declaration to " + r.m.charityName(), r.m.declarationBody(v), nil
				}})
		}
	}
	return post(ctx, tx, ls)
}

// charityName is who the declaration is made to.
func (m *DonorMail) charityName() string {
	if m.Charity.Name != "" {
		return m.Charity.Name
	}
	return campaigns.CharityName
}

// declarationBody confirms the declaration, what it covers and how to cancel it.
func (m *DonorMail) declarationBody(v view) string {
	var b strings.Builder
	b.WriteString(greeting(v))
	on := UKDate(*v.GiftAidDeclaredAt)
	fmt.Fprintf(&b, "Thank you for choosing Gift Aid. This confirms the Gift Aid declaration you made to %s on %s. ", m.charityName(), on)
	switch v.GiftAidScope {
	case giftaid.ScopeThisAndFuture:
		fmt.Fprintf(&b, "It covers your gift of %s and every gift you make to us from %s until you cancel it.", pounds(v.Amount), on)
	case giftaid.ScopeThisFutureAndPast:
		fmt.Fprintf(&b, "It covers your gift of %s, every gift you make to us from %s until you cancel it, and the gifts you made to us in the four years before that date.", pounds(v.Amount), on)
	default:
		fmt.Fprintf(&b, "It covers your gift of %s only.", pounds(v.Amount))
	}
	fmt.Fprintf(&b, " For every £1 it covers, we can claim %sp from HMRC, at no cost to you.\n\n", v.GiftAidRate.Mul(decimal.NewFromInt(100)).StringFixed(0))
	fmt.Fprintf(&b, "Your declaration, word for word:\n\n%s\n", quote(v.GiftAidWording))
	b.WriteString("To cancel your declaration, reply to this email saying \"cancel my Gift Aid declaration\"")
	if m.Charity.Email != "" {
		fmt.Fprintf(&b, " (or write to us at %s)", m.Charity.Email)
	}
	b.WriteString(": we will cancel it from the day you ask and write to confirm.")
	if v.Monthly {
		b.WriteString(" You can also cancel it from the link that manages your monthly gift.")
	}
	b.WriteString(" Please tell us too if you change your name or home address, or no longer pay enough Income Tax or Capital Gains Tax.\n")
	b.WriteString(m.signOff())
	return b.String()
}

// MonthlySetUp queues the confirmation that a monthly gift is set up, once per
// subscription; at is when it was (the first payment's day is the day of the month).
func (m *DonorMail) MonthlySetUp(ctx context.Context, tx pgx.Tx, donationID, subscription string, at time.Time) error {
	return m.send(ctx, tx, donationID, mailMonthlySetUp, subscription, at, func(v view) (string, string, error) {
		return m.monthlySetUp(ctx, tx, donationID, v, at)
	})
}

// PaymentFailed queues the note that a monthly payment (invoice) failed at at, once per
// invoice however often Stripe retries it; nextTry is Stripe's next attempt, if any.
func (m *DonorMail) PaymentFailed(ctx context.Context, tx pgx.Tx, donationID, invoice string, amount decimal.Decimal, at time.Time, nextTry *time.Time) error {
	return m.send(ctx, tx, donationID, mailPaymentFailed, invoice, at, func(v view) (string, string, error) {
		return m.paymentFailed(ctx, tx, donationID, v, amount, at, nextTry)
	})
}

// MonthlyEnded queues the note that Stripe gave up charging a monthly gift (payments kept
// failing) and cancelled it, once per subscription.
func (m *DonorMail) MonthlyEnded(ctx context.Context, tx pgx.Tx, donationID, subscription string, at time.Time) error {
	return m.send(ctx, tx, donationID, mailMonthlyEnded, subscription, at, func(v view) (string, string, error) {
		return m.monthlyEnded(ctx, tx, donationID, v, at)
	})
}

// view is what every email says about the donation.
type view = dbq.DonorMailDetailsRow

// send writes the email of one fact, the first time the fact is seen, if the donor gave
// an address. An email that cannot be written fails the transaction: the event is retried
// rather than the donor left without her receipt.
func (m *DonorMail) send(ctx context.Context, tx pgx.Tx, donationID, kind, fact string, at time.Time,
	write func(view) (subject, body string, err error)) error {
	if m == nil || donationID == "" || fact == "" {
		return nil
	}
	vs, err := details(ctx, tx, kind, []string{donationID}, []time.Time{at})
	if err != nil {
		return err
	}
	return post(ctx, tx, []letter{{v: vs[0], donationID: donationID, kind: kind, fact: fact, at: at, write: write}})
}

// details reads what a donor's emails about each of the donations ids say, as at the
// money's time in the same place of ats (one statement). The names on cards a batch has
// gathered are written first, so every email greets its donor by the name she gave.
func details(ctx context.Context, tx pgx.Tx, kind string, ids []string, ats []time.Time) ([]view, error) {
	if err := MailBatchOf(ctx).writeNames(ctx, tx); err != nil {
		return nil, fmt.Errorf("%s email: %w", kind, err)
	}
	vs, err := dbq.New(tx).DonorMailDetails(ctx, dbq.DonorMailDetailsParams{Ids: ids, Ats: ats})
	if err == nil && len(vs) != len(ids) {
		err = pgx.ErrNoRows // a donation that is not there: cannot happen in the transaction of its money
	}
	if err != nil {
		return nil, fmt.Errorf("%s email: read donation: %w", kind, err)
	}
	return vs, nil
}

// letter is one email about one fact (donationID, kind, fact), written by write from v
// only the first time the fact is seen.
type letter struct {
	v          view
	donationID string
	kind, fact string
	at         time.Time
	write      func(view) (subject, body string, err error)
}

// post claims the letters' facts, with one statement, and queues those seen for the first
// time, with one more: a letter with no fact, or to a donor who gave no address (an erased
// donor; money Stripe reported with no address), is not sent. Of two letters about the
// same fact, only the first is.
func post(ctx context.Context, tx pgx.Tx, ls []letter) error {
	type key struct{ donationID, kind, fact string }
	var p dbq.ClaimDonorMailsParams
	var sendable []letter
	for _, l := range ls {
		if l.fact == "" || strings.TrimSpace(l.v.Email) == "" {
			continue
		}
		sendable = append(sendable, l)
		p.DonationIds, p.Kinds, p.Facts, p.OccurredAts = append(p.DonationIds, l.donationID), append(p.Kinds, l.kind),
			append(p.Facts, l.fact), append(p.OccurredAts, l.at)
	}
	if len(sendable) == 0 {
		return nil
	}
	rows, err := dbq.New(tx).ClaimDonorMails(ctx, p)
	if err != nil {
		return fmt.Errorf("%s email: %w", sendable[0].kind, err)
	}
	claimed := make(map[key]bool, len(rows))
	for _, r := range rows {
		claimed[key{r.DonationID, r.Kind, r.Fact}] = true
	}
	var mails []outbox.Mail
	for _, l := range sendable {
		k := key{l.donationID, l.kind, l.fact}
		if !claimed[k] {
			continue // already written about
		}
		delete(claimed, k)
		subject, body, err := l.write(l.v)
		if err != nil {
			return fmt.Errorf("%s email: %w", l.kind, err)
		}
		mails = append(mails, outbox.Mail{To: l.v.Email, Subject: subject, Body: body})
	}
	return outbox.QueueMails(ctx, tx, mails)
}

func (m *DonorMail) receipt(ctx context.Context, tx pgx.Tx, donationID string, v view, object string, amount decimal.Decimal, at time.Time) (string, string, error) {
	var b strings.Builder
	b.WriteString(greeting(v))
	what := "gift"
	if v.Monthly {
		what = "monthly gift"
	}
	fmt.Fprintf(&b, "Thank you. Your %s of %s to %s reached us on %s.", what, pounds(amount), v.AppealName, UKDate(at))
	if v.Impact != "" {
		fmt.Fprintf(&b, " Your gift %s.", lowerFirst(strings.TrimSuffix(v.Impact, ".")))
	} else {
		b.WriteString(" It goes to women who have escaped modern slavery: a safe place to stay, counselling, and help through the legal process as they rebuild their lives.")
	}
	b.WriteString("\n\nThis is your receipt. Please keep it for your records.\n\n")
	rows := [][2]string{{"Amount", pounds(amount)}}
	if v.CoverFee.IsPositive() && amount.Equal(v.Amount.Add(v.CoverFee)) {
		fee := "card fee"
		if v.PaymentMethod == MethodBacs {
			fee = "Direct Debit fee"
		}
		rows[0][1] += fmt.Sprintf(" (your %s gift, and %s you added to cover the %s)", pounds(v.Amount), pounds(v.CoverFee), fee)
	}
	rows = append(rows, [2]string{"Date", UKDate(at)}, [2]string{"Appeal", v.AppealName})
	if v.PageTitle != "" {
		rows = append(rows, [2]string{"Fundraiser page", v.PageTitle + " (" + m.link("f", v.PageSlug) + ")"})
	}
	if v.Monthly {
		rows = append(rows, [2]string{"Frequency", "Monthly"})
	} else {
		rows = append(rows, [2]string{"Frequency", "One-off"})
	}
	rows = append(rows, [2]string{"Gift Aid", giftAidStatus(v, amount, at)}, [2]string{"Reference", object})
	b.WriteString(table(rows))
	if covered(v, at) {
		fmt.Fprintf(&b, "\nThe Gift Aid declaration you made on %s, word for word:\n\n%s", UKDate(*v.GiftAidDeclaredAt), quote(v.GiftAidWording))
	}
	if v.Monthly {
		b.WriteString("\n")
		manage, err := m.manageLine(ctx, tx, donationID, "", "To change the amount, pause or cancel your monthly gift, or to update your card")
		if err != nil {
			return "", "", err
		}
		b.WriteString(manage)
	}
	b.WriteString(m.signOff())
	subject := fmt.Sprintf("Your receipt: %s to %s", pounds(amount), v.AppealName)
	if v.Monthly {
		subject = fmt.Sprintf("Your receipt: %s monthly gift to %s, %s", pounds(amount), v.AppealName, UKDate(at))
	}
	return subject, b.String(), nil
}

func (m *DonorMail) monthlySetUp(ctx context.Context, tx pgx.Tx, donationID string, v view, at time.Time) (string, string, error) {
	amount := v.Amount.Add(v.CoverFee)
	gifts, err := dbq.New(tx).DonationGifts(ctx, dbq.DonationGiftsParams{DonationID: donationID, Otherwise: at})
	if err != nil {
		return "", "", err
	}
	first := gifts.FirstAt
	var b strings.Builder
	b.WriteString(greeting(v))
	fmt.Fprintf(&b, "Thank you for choosing to give %s every month to %s", pounds(amount), v.AppealName)
	if v.PageTitle != "" {
		fmt.Fprintf(&b, " through the fundraiser page \"%s\"", v.PageTitle)
	}
	b.WriteString(". Your monthly gift is now set up. Knowing a gift will arrive each month lets us promise a woman who has escaped modern slavery a bed, meals and support for as long as she needs them, not just for this week.\n\n")
	rows := [][2]string{
		{"Amount", pounds(amount) + " each month"},
		{"Taken on", DayOfMonth(first)},
		{"First payment", UKDate(first)},
		{"Next payment", UKDate(NextMonthlyPayment(first, first))},
		{"Gift Aid", setUpGiftAid(v, at)},
	}
	dd := v.PaymentMethod == MethodBacs && gifts.Gifts == 0
	if dd {
		// The money has not moved yet: a Direct Debit is collected days after it is set up.
		collect := FirstCollection(at)
		rows = [][2]string{
			{"Amount", pounds(amount) + " each month, by Direct Debit"},
			{"First payment", "collected around " + UKDate(collect)},
			{"Then", "each month on about the same day"},
			{"Gift Aid", setUpGiftAid(v, at)},
		}
		fmt.Fprintf(&b, "Your Direct Debit is set up; the first payment is collected around %s.\n\n", UKDate(collect))
	}
	if v.PageTitle != "" {
		rows = append(rows[:1], append([][2]string{{"Fundraiser page", v.PageTitle + " (" + m.link("f", v.PageSlug) + ")"}}, rows[1:]...)...)
	}
	b.WriteString(table(rows))
	b.WriteString("\nYou will get a receipt by email for every payment, so you always know what has been taken and when.\n\n")
	if dd {
		b.WriteString(directDebitGuarantee + "\n")
	}
	manage, err := m.manageLine(ctx, tx, donationID, "You can change the amount, pause or cancel at any time, and nothing more is taken once you cancel.", "To do any of these")
	if err != nil {
		return "", "", err
	}
	b.WriteString(manage)
	b.WriteString(m.signOff())
	return fmt.Sprintf("Your monthly gift of %s to %s is set up", pounds(amount), v.AppealName), b.String(), nil
}

func (m *DonorMail) paymentFailed(ctx context.Context, tx pgx.Tx, donationID string, v view, amount decimal.Decimal, at time.Time, nextTry *time.Time) (string, string, error) {
	if amount.Sign() <= 0 {
		amount = v.Amount.Add(v.CoverFee)
	}
	var b strings.Builder
	b.WriteString(greeting(v))
	fmt.Fprintf(&b, "We tried to take this month's %s for your monthly gift to %s on %s, but the payment did not go through. No money was taken. This usually has an ordinary cause, such as a card that has expired or been replaced.\n\n",
		pounds(amount), v.AppealName, UKDate(at))
	if nextTry != nil {
		fmt.Fprintf(&b, "You do not need to do anything if your card is fine: our payment provider, Stripe, will try again on %s.\n\n", UKDate(*nextTry))
	} else {
		b.WriteString("You do not need to do anything if your card is fine: our payment provider, Stripe, will try again over the next few days.\n\n")
	}
	manage, err := m.manageLine(ctx, tx, donationID, "If your card has changed, please update it so that the next try goes through.",
		"To update your card (or to change or cancel your monthly gift)")
	if err != nil {
		return "", "", err
	}
	b.WriteString(manage)
	b.WriteString(m.signOff())
	return fmt.Sprintf("Your monthly gift to %s: this month's payment did not go through", v.AppealName), b.String(), nil
}

func (m *DonorMail) monthlyEnded(ctx context.Context, tx pgx.Tx, donationID string, v view, at time.Time) (string, string, error) {
	gifts, err := dbq.New(tx).DonationGifts(ctx, dbq.DonationGiftsParams{DonationID: donationID, Otherwise: at})
	if err != nil {
		return "", "", err
	}
	amount := v.Amount.Add(v.CoverFee)
	var b strings.Builder
	b.WriteString(greeting(v))
	fmt.Fprintf(&b, "Our payment provider, Stripe, tried several times to take the payment for your monthly gift of %s to %s, and could not, so on %s it ended the gift. Nothing more will be taken from your card.\n\n",
		pounds(amount), v.AppealName, UKDate(at))
	switch {
	case gifts.Gifts == 1:
		fmt.Fprintf(&b, "Thank you for the %s you gave. It has already helped women who have escaped modern slavery to rebuild their lives.\n\n", pounds(gifts.Given))
	case gifts.Gifts > 1:
		fmt.Fprintf(&b, "Thank you for the %s you gave over %d months. It has already helped women who have escaped modern slavery to rebuild their lives.\n\n", pounds(gifts.Given), gifts.Gifts)
	}
	fmt.Fprintf(&b, "If your card has simply changed, you are welcome to set up your monthly gift again at any time at %s.", m.link())
	if m.Charity.Email != "" {
		fmt.Fprintf(&b, " If anything is unclear, write to us at %s.", m.Charity.Email)
	}
	b.WriteString("\n")
	b.WriteString(m.signOff())
	return fmt.Sprintf("Your monthly gift to %s has ended", v.AppealName), b.String(), nil
}

// manageLine tells the donor how to manage her monthly gift: intro (a sentence, or ""),
// then lead ("To ...") and her own link when the service can make one, else the
// charity's email.
func (m *DonorMail) manageLine(ctx context.Context, tx pgx.Tx, donationID, intro, lead string) (string, error) {
	if intro != "" {
		intro += " "
	}
	if m.ManageLink != nil {
		link, err := m.ManageLink(ctx, tx, donationID)
		if err != nil {
			return "", fmt.Errorf("manage link: %w", err)
		}
		if link != "" {
			return fmt.Sprintf("%s%s, use your own link (it is for you alone, so please do not forward this email):\n%s\n", intro, lead, link), nil
		}
	}
	if m.Charity.Email != "" {
		return fmt.Sprintf("%s%s, reply to this email or write to us at %s and we will sort it out for you.\n", intro, lead, m.Charity.Email), nil
	}
	return fmt.Sprintf("%s%s, reply to this email and we will sort it out for you.\n", intro, lead), nil
}

// signOff is the end of every email: thanks, and who the charity is.
func (m *DonorMail) signOff() string {
	c := m.Charity
	var b strings.Builder
	b.WriteString("\nWith our thanks,\n")
	if c.Name != "" {
		fmt.Fprintf(&b, "Everyone at %s\n", c.Name)
	}
	b.WriteString("\n--\n")
	if c.Name != "" {
		b.WriteString(c.Name)
		if c.Number != "" {
			fmt.Fprintf(&b, ", registered charity number %s", c.Number)
		}
		b.WriteString("\n")
	}
	if c.Address != "" {
		b.WriteString(c.Address + "\n")
	}
	if c.Email != "" {
		b.WriteString(c.Email + "\n")
	}
	return b.String()
}

// link is the address of a page on the site: link() the appeal, link("f", slug) a
// fundraiser page.
func (m *DonorMail) link(parts ...string) string {
	base := strings.TrimSuffix(m.BaseURL, "/")
	if len(parts) == 0 {
		return base + "/"
	}
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return base + "/" + strings.Join(parts, "/")
}

func greeting(v view) string {
	if name := strings.TrimSpace(v.DonorName); name != "" {
		return "Dear " + name + ",\n\n"
	}
	return "Hello,\n\n"
}

// covered reports whether the donor's Gift Aid declaration covers money received at at.
func covered(v view, at time.Time) bool {
	return v.GiftAidWording != "" && v.GiftAidDeclaredAt != nil && (v.GiftAidCancelledAt == nil || at.Before(*v.GiftAidCancelledAt))
}

// giftAidStatus is the receipt's Gift Aid line for a gift of amount at at.
func giftAidStatus(v view, amount decimal.Decimal, at time.Time) string {
	switch {
	case covered(v, at) || v.OtherDeclarationCovers:
		return fmt.Sprintf("Yes. Thanks to your declaration we can claim %s more from HMRC on this gift, at no cost to you.",
			pounds(ledger.GiftAidTax(amount, v.GiftAidRate)))
	case v.GiftAidCancelledAt != nil:
		return fmt.Sprintf("Not claimed: you cancelled your Gift Aid declaration on %s.", UKDate(*v.GiftAidCancelledAt))
	default:
		return "Not claimed on this gift."
	}
}

func setUpGiftAid(v view, at time.Time) string {
	if covered(v, at) || v.OtherDeclarationCovers {
		return "Yes, on every payment while your declaration stands (we quote it on each receipt)"
	}
	return "Not claimed"
}

// table lays out label: value rows, indented two spaces, the values aligned in one
// column in every email (the longest label is "Fundraiser page:").
func table(rows [][2]string) string {
	var b strings.Builder
	for _, r := range rows {
		fmt.Fprintf(&b, "  %-16s  %s\n", r[0]+":", r[1])
	}
	return b.String()
}

// quote indents a paragraph as a quotation, wrapped at about 72 characters.
func quote(text string) string {
	var b strings.Builder
	line := "  "
	for _, w := range strings.Fields(text) {
		if len(line)+len(w) > 74 && strings.TrimSpace(line) != "" {
			b.WriteString(strings.TrimRight(line, " ") + "\n")
			line = "  "
		}
		line += w + " "
	}
	b.WriteString(strings.TrimRight(line, " ") + "\n")
	return b.String()
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// pounds writes an amount as a donor reads it: "£1,250.00".
func pounds(d decimal.Decimal) string {
	s := d.Abs().StringFixed(2)
	whole, pence := s[:len(s)-3], s[len(s)-3:]
	for i := len(whole) - 3; i > 0; i -= 3 {
		whole = whole[:i] + "," + whole[i:]
	}
	if d.IsNegative() {
		return "-£" + whole + pence
	}
	return "£" + whole + pence
}

// UKDate is a day as people in the UK write it, in UK time: "4 December 2026".
func UKDate(t time.Time) string { return t.In(campaigns.London()).Format("2 January 2006") }

// DayOfMonth names the day of the month a monthly gift is taken on, its first payment's
// (anchor's): "the 4th of each month".
func DayOfMonth(anchor time.Time) string {
	day := anchor.In(campaigns.London()).Day()
	suffix := "th"
	switch {
	case day == 1 || day == 21 || day == 31:
		suffix = "st"
	case day == 2 || day == 22:
		suffix = "nd"
	case day == 3 || day == 23:
		suffix = "rd"
	}
	s := fmt.Sprintf("the %d%s of each month", day, suffix)
	if day > 28 {
		s += " (the last day, in a shorter month)"
	}
	return s
}

// NextMonthlyPayment is the first payment date of a monthly gift after after, for a gift
// whose first payment was at anchor: the anchor's day of each month in UK time, or the last
// day of a month too short for it, as Stripe bills.
func NextMonthlyPayment(anchor, after time.Time) time.Time {
	lon := campaigns.London()
	a := anchor.In(lon)
	months := 1
	if gap := after.In(lon).Year()*12 + int(after.In(lon).Month()) - (a.Year()*12 + int(a.Month())); gap > 1 {
		months = gap - 1
	}
	for ; ; months++ {
		first := time.Date(a.Year(), a.Month()+time.Month(months), 1, a.Hour(), a.Minute(), a.Second(), 0, lon)
		last := first.AddDate(0, 1, -1).Day()
		t := time.Date(first.Year(), first.Month(), min(a.Day(), last), a.Hour(), a.Minute(), a.Second(), 0, lon)
		if t.After(after) {
			return t
		}
	}
}

// FirstGiftAt is when a donation's first gift was paid, or otherwise when none has been.
func FirstGiftAt(ctx context.Context, s *campaigns.Store, donationID string, otherwise time.Time) (time.Time, error) {
	g, err := dbq.New(s.Pool()).DonationGifts(ctx, dbq.DonationGiftsParams{DonationID: UUIDOrNil(donationID), Otherwise: otherwise})
	if err != nil {
		return time.Time{}, fmt.Errorf("first gift: %w", err)
	}
	return g.FirstAt, nil
}

// Pounds writes an amount as a donor reads it, as every email to her does: "£1,250.00".
func Pounds(d decimal.Decimal) string { return pounds(d) }

// SignOff is the end every email to a donor shares: thanks, and who the charity is.
func (m *DonorMail) SignOff() string { return m.signOff() }
