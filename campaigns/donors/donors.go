package donors

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"giving/campaigns"
	"giving/campaigns/accounts"
	"giving/campaigns/audit"
	"giving/campaigns/dbq"
	"giving/campaigns/giftaid"
)

// Donor data duties (UK GDPR): a donor may ask for everything held about them, and for
// their personal data to be erased. Amounts, statuses, Stripe ids and the ledger are the
// charity's accounts and stay; a Gift Aid declaration's name and address stay while HMRC
// requires them (HMRC: 6 years after the end of the accounting period of the last
// gift it covers) and are erased afterwards.
//
// A donor is found by email, case-insensitively, on donations.email, together with every
// donation carrying a Stripe customer id one of those donations carries (one Stripe
// customer is one person), the Gift Aid declarations linked to those donations, their
// ledger entries, and the stored Stripe events that name any of their Stripe objects.

// DonorHash names a donor in the audit log and reports without the email itself: the
// same pseudonymous key the ledger's donor_key uses for a donor known only by email.
func DonorHash(email string) string {
	sum := sha256.Sum256([]byte(accounts.NormalizeEmail(email)))
	return "email:" + hex.EncodeToString(sum[:12])
}

// DonorDonation is one donation as held.
type DonorDonation struct {
	ID                 string
	Appeal             string // slug
	Fundraiser         string // page slug, "" for the appeal itself
	Amount             decimal.Decimal
	CoverFee           decimal.Decimal
	Monthly            bool
	Status             string
	DisplayName        string
	Message            string
	HideName           bool
	HideAmount         bool
	Email              string
	DeclarationID      string
	SessionID          string
	PaymentIntent      string
	SubscriptionID     string
	CustomerID         string
	CancelAtPeriodEnd  bool
	Unmatched          bool
	ReviewNote         string
	CreatedAt          time.Time
	UpdatedAt          time.Time
	PersonalDataErased *time.Time
}

// DonorDeclaration is one Gift Aid declaration as held.
type DonorDeclaration struct {
	ID                 string
	Title              string
	FirstName          string
	LastName           string
	House              string
	Postcode           string
	Scope              string
	WordingVersion     string
	Wording            string
	DeclaredAt         time.Time
	CancelledAt        *time.Time
	ErasureRequestedAt *time.Time
	ErasedAt           *time.Time
	LastGift           *time.Time // the latest gift in the ledger it covers
}

// DonorLedgerEntry is one money fact about the donor's donations.
type DonorLedgerEntry struct {
	ID            int64
	DonationID    string
	Kind          string
	Amount        decimal.Decimal
	Fee           decimal.Decimal
	GiftAidBase   decimal.Decimal
	Source        string // ledger.SourceStripe for a donation's money
	SourceRef     string
	ChargeID      string
	PaymentIntent string
	OccurredAt    time.Time
	ClaimID       int64 // the Gift Aid claim that included it, 0 if none
}

// StoredEvent is a stored Stripe event; Payload is the raw body as held.
type StoredEvent struct {
	ID         string
	Type       string
	Created    *time.Time
	ReceivedAt time.Time
	Outcome    string
	Detail     string // why it was not applied, for an event stored for review
	Payload    []byte
}

// Records is everything held about one donor.
type Records struct {
	Email        string // as looked up: trimmed, lower-case
	Donations    []DonorDonation
	Declarations []DonorDeclaration
	Ledger       []DonorLedgerEntry
	Events       []StoredEvent
	// People are the donor records (records.go) linking the donations: the name on her card.
	People []DonorPerson
	// Consents are her marketing answers (consent.go), with the words she was shown.
	Consents []Consent
}

// DonorPerson is a donor record as held.
type DonorPerson struct {
	ID        string
	Email     string // "" once erased
	Name      string // the name on the card at her last checkout
	CreatedAt time.Time
	ErasedAt  *time.Time
}

// Found reports whether anything is held.
func (r Records) Found() bool { return len(r.Donations) > 0 }

// StripeIDs lists every Stripe object (and donation id) of the donor's donations, as
// stored events name them: sessions, payment intents, subscriptions, customers, and the
// charges and invoices their ledger entries came from.
func (r Records) StripeIDs() []string {
	var ids []string
	for _, d := range r.Donations {
		ids = append(ids, d.ID, d.SessionID, d.PaymentIntent, d.SubscriptionID, d.CustomerID)
	}
	for _, e := range r.Ledger {
		ids = append(ids, e.SourceRef, e.ChargeID, e.PaymentIntent)
	}
	return cleanIDs(ids)
}

func cleanIDs(ids []string) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if id = strings.TrimSpace(id); id != "" {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// DonorRecords reads everything held about the donor with this email in one snapshot.
// Nothing held is not an error: the records are empty.
func DonorRecords(ctx context.Context, s *campaigns.Store, email string) (Records, error) {
	var r Records
	err := pgx.BeginTxFunc(ctx, s.Pool(), pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		var err error
		r, err = ReadDonorRecords(ctx, tx, email, false)
		return err
	})
	return r, err
}

// ExportDonorRecords is DonorRecords plus a "donor export" entry in the audit log (naming
// the donor by DonorHash, never by email), committed together: every disclosure of a
// donor's data is on record, including a search that found nothing.
func ExportDonorRecords(ctx context.Context, s *campaigns.Store, by accounts.User, email string) (Records, error) {
	if accounts.NormalizeEmail(email) == "" {
		return Records{}, &campaigns.ValidationError{Fields: map[string]string{"email": "Give the donor's email address."}}
	}
	var r Records
	err := pgx.BeginTxFunc(ctx, s.Pool(), pgx.TxOptions{IsoLevel: pgx.RepeatableRead}, func(tx pgx.Tx) error {
		var err error
		if r, err = ReadDonorRecords(ctx, tx, email, false); err != nil {
			return err
		}
		return audit.Write(ctx, tx, by, "donor export", fmt.Sprintf("%s: %d donations, %d Gift Aid declarations, %d ledger entries, %d stored Stripe events",
			DonorHash(email), len(r.Donations), len(r.Declarations), len(r.Ledger), len(r.Events)))
	})
	if err != nil {
		return Records{}, fmt.Errorf("export donor records: %w", err)
	}
	return r, nil
}

// ReadDonorRecords reads the donor's records in tx; lock takes the donations and
// declarations FOR UPDATE (erasure), and leaves the stored events out.
func ReadDonorRecords(ctx context.Context, tx pgx.Tx, email string, lock bool) (Records, error) {
	r := Records{Email: accounts.NormalizeEmail(email)}
	if r.Email == "" {
		return r, nil
	}
	// A donor's donations are those with their email and every donation sharing a Stripe
	// customer with them (campaigns/queries/donors.sql).
	q := dbq.New(tx)
	var donations []dbq.DonorDonationsRow
	var err error
	if lock {
		var locked []dbq.DonorDonationsForUpdateRow
		locked, err = q.DonorDonationsForUpdate(ctx, r.Email)
		for _, d := range locked {
			donations = append(donations, dbq.DonorDonationsRow(d))
		}
	} else {
		donations, err = q.DonorDonations(ctx, r.Email)
	}
	if err == nil {
		r.Donations = make([]DonorDonation, 0, len(donations))
		for _, d := range donations {
			r.Donations = append(r.Donations, DonorDonation(d))
		}
	}
	if err != nil {
		return r, fmt.Errorf("read donor's donations: %w", err)
	}
	if len(r.Donations) == 0 {
		return r, nil
	}
	donationIDs := make([]string, len(r.Donations))
	var declIDs []string
	for i, d := range r.Donations {
		donationIDs[i] = d.ID
		if d.DeclarationID != "" {
			declIDs = append(declIDs, d.DeclarationID)
		}
	}
	declIDs = cleanIDs(declIDs)

	var decls []dbq.DonorDeclarationsRow
	if lock {
		var locked []dbq.DonorDeclarationsForUpdateRow
		locked, err = q.DonorDeclarationsForUpdate(ctx, declIDs)
		for _, g := range locked {
			decls = append(decls, dbq.DonorDeclarationsRow(g))
		}
	} else {
		decls, err = q.DonorDeclarations(ctx, declIDs)
	}
	if err != nil {
		return r, fmt.Errorf("read donor's Gift Aid declarations: %w", err)
	}
	r.Declarations = make([]DonorDeclaration, 0, len(decls))
	for _, g := range decls {
		r.Declarations = append(r.Declarations, DonorDeclaration{ID: g.ID, Title: g.Title, FirstName: g.FirstName,
			LastName: g.LastName, House: g.House, Postcode: g.Postcode, Scope: g.Scope, WordingVersion: g.WordingVersion,
			Wording: g.Wording, DeclaredAt: g.DeclaredAt, CancelledAt: g.CancelledAt, ErasureRequestedAt: g.ErasureRequestedAt,
			ErasedAt: g.ErasedAt, LastGift: lastGift(g.LastGift)})
	}

	people, err := q.DonorRecordsOfDonations(ctx, donationIDs)
	if err != nil {
		return r, fmt.Errorf("read donor's records: %w", err)
	}
	for _, p := range people {
		r.People = append(r.People, DonorPerson(p))
	}

	consents, err := q.DonorConsentsOfDonations(ctx, donationIDs)
	if err != nil {
		return r, fmt.Errorf("read donor's marketing consents: %w", err)
	}
	for _, c := range consents {
		r.Consents = append(r.Consents, Consent(c))
	}

	ledger, err := q.DonorLedger(ctx, donationIDs)
	if err != nil {
		return r, fmt.Errorf("read donor's ledger entries: %w", err)
	}
	r.Ledger = make([]DonorLedgerEntry, 0, len(ledger))
	for _, e := range ledger {
		r.Ledger = append(r.Ledger, DonorLedgerEntry(e))
	}
	if !lock {
		if r.Events, err = EventsMentioning(ctx, tx, r.StripeIDs(), false); err != nil {
			return r, err
		}
	}
	return r, nil
}

// EventsMentioning returns the stored Stripe events whose raw payload names any of ids as
// a JSON string (`"cus_123"`), oldest first; lock takes them FOR UPDATE. It reads every
// stored payload: an occasional administrative search, not a hot path.
func EventsMentioning(ctx context.Context, db campaigns.DB, ids []string, lock bool) ([]StoredEvent, error) {
	ids = cleanIDs(ids)
	if len(ids) == 0 {
		return nil, nil
	}
	var rows []dbq.EventsMentioningRow
	var err error
	if lock {
		var locked []dbq.EventsMentioningForUpdateRow
		locked, err = dbq.New(db).EventsMentioningForUpdate(ctx, ids)
		for _, e := range locked {
			rows = append(rows, dbq.EventsMentioningRow(e))
		}
	} else {
		rows, err = dbq.New(db).EventsMentioning(ctx, ids)
	}
	if err != nil {
		return nil, fmt.Errorf("find stored events: %w", err)
	}
	evs := make([]StoredEvent, 0, len(rows))
	for _, e := range rows {
		evs = append(evs, StoredEvent{ID: e.ID, Type: e.Type, Created: e.Created, ReceivedAt: e.ReceivedAt, Outcome: e.Outcome, Payload: e.Payload})
	}
	return evs, nil
}

// ---- The JSON document ----

type jsonDonorDoc struct {
	Format       string            `json:"format"`
	Email        string            `json:"email"`
	Found        bool              `json:"found"`
	Note         string            `json:"note"`
	Donations    []jsonDonation    `json:"donations"`
	Declarations []jsonDeclaration `json:"gift_aid_declarations"`
	Ledger       []jsonLedgerEntry `json:"ledger_entries"`
	People       []jsonPerson      `json:"donor_records"`
	Consents     []jsonConsent     `json:"marketing_consents"`
	Events       []jsonEvent       `json:"stripe_events"`
}

type jsonConsent struct {
	DonationID     string `json:"donation_id,omitempty"`
	Channel        string `json:"channel"`
	Answer         string `json:"answer"`
	Mode           string `json:"asked_as"`
	Wording        string `json:"wording"`
	WordingVersion string `json:"wording_version"`
	Contact        string `json:"contact_detail"`
	AnsweredAt     string `json:"answered_at"`
}

type jsonDonation struct {
	ID                 string  `json:"id"`
	Appeal             string  `json:"appeal"`
	Fundraiser         string  `json:"fundraiser_page"`
	Amount             string  `json:"amount"`
	CoverFee           string  `json:"card_fee_covered"`
	Currency           string  `json:"currency"`
	Frequency          string  `json:"frequency"`
	Status             string  `json:"status"`
	DisplayName        string  `json:"display_name"`
	Message            string  `json:"message"`
	HideName           bool    `json:"hide_name"`
	HideAmount         bool    `json:"hide_amount"`
	Email              string  `json:"email"`
	DeclarationID      string  `json:"gift_aid_declaration_id"`
	SessionID          string  `json:"stripe_checkout_session"`
	PaymentIntent      string  `json:"stripe_payment_intent"`
	SubscriptionID     string  `json:"stripe_subscription"`
	CustomerID         string  `json:"stripe_customer"`
	CancelAtPeriodEnd  bool    `json:"cancel_at_period_end"`
	Unmatched          bool    `json:"unmatched"`
	ReviewNote         string  `json:"review_note"`
	CreatedAt          string  `json:"created_at"`
	UpdatedAt          string  `json:"updated_at"`
	PersonalDataErased *string `json:"personal_data_erased_at"`
}

type jsonDeclaration struct {
	ID                 string  `json:"id"`
	Title              string  `json:"title"`
	FirstName          string  `json:"first_name"`
	LastName           string  `json:"last_name"`
	House              string  `json:"house_name_or_number"`
	Postcode           string  `json:"postcode"`
	Scope              string  `json:"scope"`
	WordingVersion     string  `json:"wording_version"`
	Wording            string  `json:"wording"`
	DeclaredAt         string  `json:"declared_at"`
	CancelledAt        *string `json:"cancelled_at"`
	LastGift           *string `json:"last_gift_at"`
	KeepUntil          *string `json:"hmrc_keep_until"`
	ErasureRequestedAt *string `json:"erasure_requested_at"`
	ErasedAt           *string `json:"erased_at"`
}

type jsonPerson struct {
	ID        string  `json:"id"`
	Email     string  `json:"email"`
	Name      string  `json:"name_on_card"`
	CreatedAt string  `json:"created_at"`
	ErasedAt  *string `json:"erased_at"`
}

type jsonLedgerEntry struct {
	ID            int64  `json:"id"`
	DonationID    string `json:"donation_id"`
	Kind          string `json:"kind"`
	Amount        string `json:"amount"`
	Fee           string `json:"stripe_fee"`
	GiftAidBase   string `json:"gift_aid_base"`
	Source        string `json:"source"`
	Reference     string `json:"reference"`
	ChargeID      string `json:"stripe_charge"`
	PaymentIntent string `json:"stripe_payment_intent"`
	OccurredAt    string `json:"occurred_at"`
	ClaimID       int64  `json:"gift_aid_claim,omitempty"`
}

type jsonEvent struct {
	ID         string          `json:"id"`
	Type       string          `json:"type"`
	Created    *string         `json:"created"`
	ReceivedAt string          `json:"received_at"`
	Outcome    string          `json:"outcome"`
	Payload    json.RawMessage `json:"payload"`
}

func jsonTime(t time.Time) string { return t.In(campaigns.London()).Format(time.RFC3339) }

func jsonTimePtr(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := jsonTime(*t)
	return &s
}

// WriteDonorJSON writes r as one readable JSON document: every field held, amounts as
// strings with two decimals, times in UK time (RFC 3339), the stored Stripe events with
// their payloads as received (or as scrubbed).
func WriteDonorJSON(w io.Writer, r Records) error {
	doc := jsonDonorDoc{
		Format: "giving donor records v1", Email: r.Email, Found: r.Found(),
		Note: "Everything this service holds about the donor: donations found by email (and by the Stripe " +
			"customer they carry), the Gift Aid declarations linked to them, the ledger entries of the money " +
			"they moved, the donor records linking them (with the name on the card), her marketing answers " +
			"with the words she was shown, and the stored Stripe " +
			"events naming their Stripe objects. Amounts are pounds sterling.",
		Donations: []jsonDonation{}, Declarations: []jsonDeclaration{}, Ledger: []jsonLedgerEntry{}, Events: []jsonEvent{},
		People: []jsonPerson{}, Consents: []jsonConsent{},
	}
	for _, c := range r.Consents {
		answer := "no"
		if c.Granted {
			answer = "yes"
		}
		doc.Consents = append(doc.Consents, jsonConsent{DonationID: c.DonationID, Channel: c.Channel, Answer: answer, Mode: c.Mode,
			Wording: c.Wording, WordingVersion: c.WordingVersion, Contact: c.Contact, AnsweredAt: jsonTime(c.AnsweredAt)})
	}
	for _, p := range r.People {
		doc.People = append(doc.People, jsonPerson{ID: p.ID, Email: p.Email, Name: p.Name, CreatedAt: jsonTime(p.CreatedAt),
			ErasedAt: jsonTimePtr(p.ErasedAt)})
	}
	for _, d := range r.Donations {
		freq := "one_off"
		if d.Monthly {
			freq = "monthly"
		}
		doc.Donations = append(doc.Donations, jsonDonation{ID: d.ID, Appeal: d.Appeal, Fundraiser: d.Fundraiser,
			Amount: d.Amount.StringFixed(2), CoverFee: d.CoverFee.StringFixed(2), Currency: "GBP", Frequency: freq,
			Status: d.Status, DisplayName: d.DisplayName, Message: d.Message, HideName: d.HideName, HideAmount: d.HideAmount,
			Email: d.Email, DeclarationID: d.DeclarationID, SessionID: d.SessionID, PaymentIntent: d.PaymentIntent,
			SubscriptionID: d.SubscriptionID, CustomerID: d.CustomerID, CancelAtPeriodEnd: d.CancelAtPeriodEnd,
			Unmatched: d.Unmatched, ReviewNote: d.ReviewNote, CreatedAt: jsonTime(d.CreatedAt), UpdatedAt: jsonTime(d.UpdatedAt),
			PersonalDataErased: jsonTimePtr(d.PersonalDataErased)})
	}
	for _, g := range r.Declarations {
		jd := jsonDeclaration{ID: g.ID, Title: g.Title, FirstName: g.FirstName, LastName: g.LastName, House: g.House,
			Postcode: g.Postcode, Scope: g.Scope, WordingVersion: g.WordingVersion, Wording: g.Wording,
			DeclaredAt: jsonTime(g.DeclaredAt), CancelledAt: jsonTimePtr(g.CancelledAt), LastGift: jsonTimePtr(g.LastGift),
			ErasureRequestedAt: jsonTimePtr(g.ErasureRequestedAt), ErasedAt: jsonTimePtr(g.ErasedAt)}
		if g.LastGift != nil {
			s := giftaid.GiftAidKeepUntil(*g.LastGift).Format(time.DateOnly)
			jd.KeepUntil = &s
		}
		doc.Declarations = append(doc.Declarations, jd)
	}
	for _, e := range r.Ledger {
		doc.Ledger = append(doc.Ledger, jsonLedgerEntry{ID: e.ID, DonationID: e.DonationID, Kind: e.Kind,
			Amount: e.Amount.StringFixed(2), Fee: e.Fee.StringFixed(2), GiftAidBase: e.GiftAidBase.StringFixed(2),
			Source: e.Source, Reference: e.SourceRef, ChargeID: e.ChargeID, PaymentIntent: e.PaymentIntent,
			OccurredAt: jsonTime(e.OccurredAt), ClaimID: e.ClaimID})
	}
	for _, e := range r.Events {
		payload := json.RawMessage(e.Payload)
		if !json.Valid(e.Payload) {
			// A signed but malformed body, kept for review: shown as a string.
			payload, _ = json.Marshal(string(e.Payload))
		}
		doc.Events = append(doc.Events, jsonEvent{ID: e.ID, Type: e.Type, Created: jsonTimePtr(e.Created),
			ReceivedAt: jsonTime(e.ReceivedAt), Outcome: e.Outcome, Payload: payload})
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("write donor records: %w", err)
	}
	return nil
}

// ---- Erasure ----

// Found reports whether anything was held about the donor.
func (r ErasureReport) Found() bool { return r.DonationsScrubbed > 0 }

// Summary is one line for the audit log and the command line, without the email.
func (r ErasureReport) Summary() string {
	if !r.Found() {
		return fmt.Sprintf("%s: nothing held; nothing changed", r.DonorHash)
	}
	var kept []string
	for _, k := range r.DeclarationsKept {
		kept = append(kept, fmt.Sprintf("%s until %s", k.ID, k.KeepUntil.Format(time.DateOnly)))
	}
	s := fmt.Sprintf("%s: %d donations scrubbed, %d Gift Aid declarations kept for HMRC", r.DonorHash,
		r.DonationsScrubbed, len(r.DeclarationsKept))
	if len(kept) > 0 {
		s += " (" + strings.Join(kept, ", ") + ")"
	}
	s += fmt.Sprintf(", %d declarations erased, %d stored Stripe events scrubbed", r.DeclarationsErased, r.EventsScrubbed)
	if r.MailDeleted > 0 {
		s += fmt.Sprintf(", %d emails to the donor deleted", r.MailDeleted)
	}
	if r.RecordsScrubbed > 0 {
		s += fmt.Sprintf(", %d donor records scrubbed", r.RecordsScrubbed)
	}
	if r.LiveMonthly > 0 {
		s += fmt.Sprintf(", %d monthly gifts still live in Stripe", r.LiveMonthly)
	}
	return s
}

// Facts says what the erasure did (done) or, for a dry run, would do, one sentence each,
// without the email: donations scrubbed, stored events scrubbed, declarations erased,
// each declaration kept for HMRC and until when, and monthly gifts still live in Stripe.
// Nothing held gives no facts.
func (r ErasureReport) Facts(done bool) []ErasureFact {
	if !r.Found() {
		return nil
	}
	verb := "would be "
	if done {
		verb = ""
	}
	facts := []ErasureFact{
		{Text: fmt.Sprintf("%s %sscrubbed (email, display name and message blanked; amounts, statuses and Stripe ids kept)",
			plural(r.DonationsScrubbed, "donation", "donations"), verb)},
		{Text: fmt.Sprintf("%s %sscrubbed of contact details", plural(r.EventsScrubbed, "stored Stripe event", "stored Stripe events"), verb)},
		{Text: fmt.Sprintf("%s %sscrubbed (email and name removed; the donations stay linked as one anonymous donor)",
			plural(r.RecordsScrubbed, "donor record", "donor records"), verb)},
		{Text: fmt.Sprintf("%s %serased (past HMRC's retention period)", plural(r.DeclarationsErased, "Gift Aid declaration", "Gift Aid declarations"), verb)},
	}
	for _, k := range r.DeclarationsKept {
		facts = append(facts, ErasureFact{Text: fmt.Sprintf("Gift Aid declaration %s %skept for HMRC until %s (last gift %s): name and address marked for erasure by 'giving donor erase-due'",
			k.ID, verb, k.KeepUntil.Format("02/01/2006"), k.LastGift.In(campaigns.London()).Format("02/01/2006"))})
	}
	if r.LiveMonthly > 0 {
		them := "them"
		if r.LiveMonthly == 1 {
			them = "it"
		}
		facts = append(facts, ErasureFact{Warning: true, Text: fmt.Sprintf("%s still live in Stripe: cancel %s there, or each renewal brings the email back",
			plural(r.LiveMonthly, "monthly gift is", "monthly gifts are"), them)})
	}
	return facts
}
