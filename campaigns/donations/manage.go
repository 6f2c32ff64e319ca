package donations

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/shopspring/decimal"

	"giving/campaigns"
	"giving/campaigns/accounts"
	"giving/campaigns/audit"
	"giving/campaigns/dbq"
	"giving/campaigns/outbox"
)

// A donor manages her monthly gift without an account, through a manage link:
// BASE_URL/manage/<token>, where the token is 32 random bytes (base64url). Only its
// SHA-256 is stored (manage_links), with its purpose (managing one monthly gift), the
// donation, its expiry and its revocation, so the table cannot be turned back into working
// links, and a link can be withdrawn. A link works, as often as needed, for
// ManageLinkLifetime; it stops working once the gift has ended (any link of that gift is
// revoked then). A form on the page carries the number of the gift's latest change, so a
// form submitted again (a replay, a second tab) changes nothing.
//
// Every change is a request (manage_requests) made in one transaction with its audit row
// and the River job (ManageJob) that asks Stripe; it is shown as "requested, waiting for
// Stripe's confirmation" until an event from Stripe shows the change made (Confirm, called
// from the webhook), which marks it done and emails the donor. At most one change other
// than a card update is waiting per gift.

// ManageLinkLifetime is how long a manage link works: longer than a month, so the link in
// one month's receipt still works when the next month's arrives.
const ManageLinkLifetime = 45 * 24 * time.Hour

// ErrLinkExpired: the manage link existed but has expired or been withdrawn.
var ErrLinkExpired = errors.New("manage link expired or withdrawn")

// ErrGiftEnded: the manage link was withdrawn because its gift has ended (cancelled by
// the donor, the charity, a dispute or Stripe). It is an ErrLinkExpired.
var ErrGiftEnded = fmt.Errorf("the monthly gift has ended: %w", ErrLinkExpired)

// ErrStale: the form was made before the gift's latest change (submitted twice, or from
// an old tab); nothing was changed.
var ErrStale = fmt.Errorf("the page was out of date: %w", campaigns.ErrConflict)

// ErrChangeWaiting: a change is already waiting for Stripe's confirmation.
var ErrChangeWaiting = fmt.Errorf("a change is waiting for Stripe: %w", campaigns.ErrConflict)

// Kinds of change.
const (
	ChangeCancel = "cancel"
	ChangePause  = "pause"
	ChangeResume = "resume"
	ChangeAmount = "amount"
	ChangeCard   = "card"
)

// Who asked.
const (
	ActorDonor = "donor"
	ActorAdmin = "admin"
)

// NewManageLink creates, in tx, a fresh manage link for the monthly gift donationID and
// returns it (baseURL + "/manage/" + token). It works for ManageLinkLifetime from now
// (pass the store's clock, store.Now()), and until the gift ends. ErrNotFound for a donation that is not a monthly
// gift with a subscription.
func NewManageLink(ctx context.Context, tx pgx.Tx, now time.Time, baseURL, donationID string) (string, error) {
	q := dbq.New(tx)
	g, err := q.ManagedGift(ctx, uuidOrEmpty(donationID))
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && (!g.Monthly || g.SubscriptionID == "")) {
		return "", fmt.Errorf("manage link for %s: %w", donationID, campaigns.ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("manage link: %w", err)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("manage link: %w", err)
	}
	sum := sha256.Sum256(raw)
	if err := q.PruneManageLinks(ctx, now); err != nil {
		return "", err
	}
	if err := q.InsertManageLink(ctx, dbq.InsertManageLinkParams{TokenHash: sum[:], DonationID: g.ID, Now: now, Lifetime: ManageLinkLifetime}); err != nil {
		return "", fmt.Errorf("manage link: %w", err)
	}
	return strings.TrimSuffix(baseURL, "/") + "/manage/" + base64.RawURLEncoding.EncodeToString(raw), nil
}

// ManagedGift is what the manage page shows.
type ManagedGift struct {
	ID          string
	Amount      decimal.Decimal // what the donor pays each month, with any fee covered
	Status      string
	Email       string
	PausedUntil *time.Time // Stripe confirmed: no payment until then
	EndedBy     string
	Appeal      string
	Fundraiser  string
	Since       time.Time
	// Latest is the number of the gift's latest change (0: none), which a form carries.
	Latest  int64
	Changes []Change
}

// Running: the gift still takes payments (or is paused) and can be changed.
func (g ManagedGift) Running() bool {
	return g.Status == StatusActive || g.Status == StatusPastDue
}

// Paused reports whether Stripe has confirmed a pause that has not ended at now.
func (g ManagedGift) Paused(now time.Time) bool {
	return g.PausedUntil != nil && g.PausedUntil.After(now)
}

// Waiting is the change waiting for Stripe's confirmation, if any.
func (g ManagedGift) Waiting() *Change {
	for i := range g.Changes {
		if c := g.Changes[i]; c.Kind != ChangeCard && c.ConfirmedAt == nil && c.FailedAt == nil {
			return &g.Changes[i]
		}
	}
	return nil
}

// Change is one requested change and how far it has got.
type Change struct {
	ID          int64
	Kind        string
	Actor       string
	Reason      string
	OldAmount   decimal.Decimal
	NewAmount   decimal.Decimal
	ResumesAt   *time.Time
	RequestedAt time.Time
	SentAt      *time.Time // Stripe accepted the call
	ConfirmedAt *time.Time // Stripe's event shows it made: done
	FailedAt    *time.Time
	LastError   string
}

// Describe says what the change is, in the donor's words.
func (c Change) Describe() string {
	switch c.Kind {
	case ChangeCancel:
		return "Cancel the monthly gift"
	case ChangePause:
		return "Pause payments until " + londonDate(c.ResumesAt)
	case ChangeResume:
		return "Restart payments"
	case ChangeAmount:
		return "Change the amount from " + pounds(c.OldAmount) + " to " + pounds(c.NewAmount) + " a month"
	case ChangeCard:
		return "Update the card"
	}
	return c.Kind
}

// ManageLinkGift is the gift a manage link manages: ErrNotFound for a token that was never
// issued (or is malformed), ErrLinkExpired for one expired or withdrawn. It changes nothing.
func ManageLinkGift(ctx context.Context, s *campaigns.Store, token string) (ManagedGift, error) {
	id, err := manageLinkDonation(ctx, s.Pool(), s.Now(), token)
	if err != nil {
		return ManagedGift{}, err
	}
	return Managed(ctx, s.Pool(), id)
}

func manageLinkDonation(ctx context.Context, db dbq.DBTX, now time.Time, token string) (string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(raw) != 32 {
		return "", fmt.Errorf("manage link: %w", campaigns.ErrNotFound)
	}
	sum := sha256.Sum256(raw)
	l, err := dbq.New(db).ManageLink(ctx, sum[:])
	if errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("manage link: %w", campaigns.ErrNotFound)
	} else if err != nil {
		return "", fmt.Errorf("manage link: %w", err)
	}
	if l.RevokedAt != nil {
		return "", ErrGiftEnded
	}
	if !now.Before(l.ExpiresAt) {
		return "", ErrLinkExpired
	}
	return l.DonationID, nil
}

// Managed reads a monthly gift and its recent changes.
func Managed(ctx context.Context, db dbq.DBTX, donationID string) (ManagedGift, error) {
	q := dbq.New(db)
	r, err := q.ManagedGift(ctx, uuidOrEmpty(donationID))
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && (!r.Monthly || r.Erased)) {
		return ManagedGift{}, fmt.Errorf("monthly gift: %w", campaigns.ErrNotFound)
	} else if err != nil {
		return ManagedGift{}, fmt.Errorf("monthly gift: %w", err)
	}
	g := ManagedGift{ID: r.ID, Amount: r.Amount.Add(r.CoverFee), Status: r.Status, Email: r.Email, PausedUntil: r.PausedUntil,
		EndedBy: r.EndedBy, Appeal: r.AppealName, Fundraiser: r.FundraiserTitle, Since: r.CreatedAt}
	rows, err := q.ManageRequestsFor(ctx, r.ID)
	if err != nil {
		return ManagedGift{}, fmt.Errorf("monthly gift changes: %w", err)
	}
	for i, c := range rows {
		if i == 0 {
			g.Latest = c.ID
		}
		g.Changes = append(g.Changes, Change{ID: c.ID, Kind: c.Kind, Actor: c.Actor, Reason: c.Reason, OldAmount: c.OldAmount,
			NewAmount: c.NewAmount, ResumesAt: c.ResumesAt, RequestedAt: c.RequestedAt, SentAt: c.SentAt,
			ConfirmedAt: c.ConfirmedAt, FailedAt: c.FailedAt, LastError: c.LastError})
	}
	return g, nil
}

// ChangeRequest is one change asked for. After is the Latest the form was made with;
// PauseMonths is 1 to 3 for a pause; NewAmount the new monthly amount for a change of
// amount (already checked against the site's limits by the caller).
type ChangeRequest struct {
	Kind        string
	After       int64
	Site        string // the site's public address, for the confirmation email's links
	PauseMonths int
	NewAmount   decimal.Decimal
	Reason      string
}

// DonorActor is the donor, acting through a manage link, in the audit log.
type DonorActor struct{}

func (DonorActor) AuditActor() (int64, string) { return 0, "donor (manage link)" }

// RequestChangeByLink records a change the donor asked for through a manage link: the link
// must still work (ErrNotFound, ErrLinkExpired otherwise, and nothing changes).
func RequestChangeByLink(ctx context.Context, s *campaigns.Store, token string, c ChangeRequest) (int64, error) {
	var id int64
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		donation, err := manageLinkDonation(ctx, tx, s.Now(), token)
		if err != nil {
			return err
		}
		id, err = requestChange(ctx, tx, s.Now(), DonorActor{}, ActorDonor, donation, c)
		return err
	})
	return id, err
}

// AdminCancel records an admin's cancellation of a monthly gift (a donor who telephoned),
// with the reason, through the same path as the donor's own: audited with the admin as
// actor, cancelled at Stripe by the job, shown done once Stripe confirms.
func AdminCancel(ctx context.Context, s *campaigns.Store, admin audit.Actor, donationID, reason, site string) error {
	reason = strings.TrimSpace(reason)
	if reason == "" || len([]rune(reason)) > 500 {
		return &campaigns.ValidationError{Fields: map[string]string{"reason-" + donationID: "Say why, in up to 500 characters (for example: the donor telephoned on 3 May)."}}
	}
	return s.InTx(ctx, func(tx pgx.Tx) error {
		_, err := requestChange(ctx, tx, s.Now(), admin, ActorAdmin, donationID, ChangeRequest{Kind: ChangeCancel, After: -1, Reason: reason, Site: site})
		return err
	})
}

func requestChange(ctx context.Context, tx pgx.Tx, now time.Time, who audit.Actor, actor, donationID string, c ChangeRequest) (int64, error) {
	d, err := FindDonation(ctx, tx, DonationLookup{ID: donationID})
	if err != nil {
		return 0, err
	}
	if !d.Monthly || d.SubscriptionID == "" {
		return 0, fmt.Errorf("change a monthly gift: %w", campaigns.ErrNotFound)
	}
	if d.Status != StatusActive && d.Status != StatusPastDue {
		return 0, ErrGiftEnded // nothing left to change
	}
	q := dbq.New(tx)
	if c.After >= 0 {
		latest, err := q.LatestManageRequest(ctx, d.ID)
		if err != nil {
			return 0, err
		}
		if latest != c.After {
			return 0, ErrStale
		}
	}
	p := dbq.InsertManageRequestParams{DonationID: d.ID, SubscriptionID: d.SubscriptionID, Kind: c.Kind, Actor: actor,
		Reason: c.Reason, Site: c.Site, OldAmount: decimal.Zero, NewAmount: decimal.Zero, Now: now}
	if id, email := who.AuditActor(); id != 0 && email != "" {
		p.ActorUserID = &id
	}
	g, err := Managed(ctx, tx, d.ID)
	if err != nil {
		return 0, err
	}
	detail := ""
	switch c.Kind {
	case ChangeCancel:
		detail = "cancel now, no proration"
	case ChangePause:
		if c.PauseMonths < 1 || c.PauseMonths > 3 {
			return 0, &campaigns.ValidationError{Fields: map[string]string{"months": "Choose one, two or three months."}}
		}
		if g.Paused(now) {
			return 0, &campaigns.ValidationError{Fields: map[string]string{"months": "The gift is already paused; restart it first."}}
		}
		resumes := londonMidnight(now.AddDate(0, c.PauseMonths, 0))
		p.ResumesAt = &resumes
		detail = "pause until " + resumes.Format("2006-01-02")
	case ChangeResume:
		if !g.Paused(now) {
			return 0, &campaigns.ValidationError{Fields: map[string]string{"resume": "The gift is not paused."}}
		}
		detail = "restart payments"
	case ChangeAmount:
		if !c.NewAmount.IsPositive() || !c.NewAmount.Round(2).Equal(c.NewAmount) {
			return 0, &campaigns.ValidationError{Fields: map[string]string{"amount": "Enter an amount in pounds, such as 15 or 12.50."}}
		}
		if c.NewAmount.Equal(g.Amount) {
			return 0, &campaigns.ValidationError{Fields: map[string]string{"amount": "That is already the monthly amount: enter a different one."}}
		}
		p.OldAmount, p.NewAmount = g.Amount, c.NewAmount
		detail = "amount " + g.Amount.StringFixed(2) + " -> " + c.NewAmount.StringFixed(2)
	case ChangeCard:
		detail = "update the card (Checkout, setup mode)"
	default:
		return 0, &campaigns.ValidationError{Fields: map[string]string{"kind": "Unknown change."}}
	}
	id, err := q.InsertManageRequest(ctx, p)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, ErrChangeWaiting // the unique index: one open change per gift
	} else if err != nil {
		return 0, fmt.Errorf("request %s: %w", c.Kind, err)
	}
	if c.Reason != "" {
		detail += "; reason: " + c.Reason
	}
	if err := audit.Write(ctx, tx, who, "monthly gift change requested", fmt.Sprintf("donation %s (%s): %s; request %d", d.ID, d.SubscriptionID, detail, id)); err != nil {
		return 0, err
	}
	if c.Kind == ChangeCard {
		return id, nil // the caller opens Checkout at once: the donor is there to type the card
	}
	return id, campaigns.InsertJob(ctx, tx, ManageJob{RequestID: id})
}

// ManageJob asks Stripe to make one requested change (manage_requests.id).
type ManageJob struct {
	RequestID int64 `json:"request_id"`
}

func (ManageJob) Kind() string { return "manage_subscription" }

// InsertOpts: one job per request; tried for about a day before the request is given up
// (the page then says it could not be made, and the donor can ask again).
func (ManageJob) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: campaigns.JobQueueStripe, MaxAttempts: 30, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// PendingChange is a request as the job reads it.
type PendingChange struct {
	ID              int64
	DonationID      string
	SubscriptionID  string
	CustomerID      string
	Kind            string
	Reason          string
	NewAmount       decimal.Decimal
	ResumesAt       *time.Time
	PaymentMethodID string
}

// MakeChange runs one attempt of a ManageJob: call asks Stripe; its answer is recorded
// (sent, or the error); after the last attempt the request is given up. A request
// confirmed or given up already is left alone. No transaction is held during the call.
func MakeChange(ctx context.Context, s *campaigns.Store, requestID int64, attempt int, last bool,
	call func(ctx context.Context, c PendingChange) (paymentMethod string, err error)) error {
	q := dbq.New(s.Pool())
	r, err := q.StartManageRequest(ctx, dbq.StartManageRequestParams{Attempt: int32(attempt), ID: requestID})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	} else if err != nil {
		return fmt.Errorf("start change %d: %w", requestID, err)
	}
	c := PendingChange{ID: r.ID, DonationID: r.DonationID, SubscriptionID: r.SubscriptionID, CustomerID: r.CustomerID, Kind: r.Kind,
		Reason: r.Reason, NewAmount: r.NewAmount, ResumesAt: r.ResumesAt, PaymentMethodID: r.PaymentMethodID}
	pm, callErr := call(ctx, c)
	keep := context.WithoutCancel(ctx)
	switch {
	case callErr == nil:
		err = q.ManageRequestSent(keep, dbq.ManageRequestSentParams{Now: s.Now(), PaymentMethodID: pm, ID: r.ID})
	case last:
		err = s.InTx(keep, func(tx pgx.Tx) error {
			if err := dbq.New(tx).ManageRequestFailed(keep, dbq.ManageRequestFailedParams{Now: s.Now(), LastError: callErr.Error(), ID: r.ID}); err != nil {
				return err
			}
			return audit.Write(keep, tx, systemActor{}, "monthly gift change failed", fmt.Sprintf("request %d (%s of %s): Stripe refused: %v", r.ID, r.Kind, r.SubscriptionID, callErr))
		})
	default:
		err = q.ManageRequestError(keep, dbq.ManageRequestErrorParams{LastError: callErr.Error(), ID: r.ID})
	}
	if err != nil {
		return fmt.Errorf("record the outcome of change %d: %w", r.ID, err)
	}
	return callErr
}

type systemActor struct{}

func (systemActor) AuditActor() (int64, string) { return 0, "stripe" }

// SetupSession records the Checkout session (setup mode) opened for a card update.
func SetupSession(ctx context.Context, s *campaigns.Store, requestID int64, sessionID string) error {
	return dbq.New(s.Pool()).SetManageSetupSession(ctx, dbq.SetManageSetupSessionParams{SetupSessionID: &sessionID, Now: s.Now(), ID: requestID})
}

// RecordCard records the payment method a card update saved, before it is put on the
// subscription.
func RecordCard(ctx context.Context, s *campaigns.Store, requestID int64, paymentMethod string) error {
	return dbq.New(s.Pool()).SetManagePaymentMethod(ctx, dbq.SetManagePaymentMethodParams{PaymentMethodID: paymentMethod, ID: requestID})
}

// CardSaved records, in tx, that the donor finished a card update's Checkout session, and
// queues the job that makes the saved card the subscription's. ErrNotFound for a session
// that is not a waiting card update.
func CardSaved(ctx context.Context, tx pgx.Tx, now time.Time, sessionID, setupIntent string) error {
	q := dbq.New(tx)
	r, err := q.ManageRequestBySetupSession(ctx, &sessionID)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("card update session %s: %w", sessionID, campaigns.ErrNotFound)
	} else if err != nil {
		return err
	}
	// Until the job reads the card, the request holds the setup intent that saved it.
	if err := q.ManageRequestSent(ctx, dbq.ManageRequestSentParams{Now: now, PaymentMethodID: setupIntent, ID: r.ID}); err != nil {
		return err
	}
	return campaigns.InsertJob(ctx, tx, ManageJob{RequestID: r.ID})
}

// StripeState is what an event from Stripe says a monthly gift's subscription is now.
type StripeState struct {
	Ended         bool       // deleted, or status canceled
	PausedUntil   *time.Time // pause_collection.resumes_at; nil: collecting
	AmountPence   int64      // the item's price, a month
	PaymentMethod string     // default_payment_method
	// CancelReason is cancellation_details.reason ("payment_failed", "payment_disputed",
	// "cancellation_requested").
	CancelReason string
}

// Confirm brings a monthly gift in line with what Stripe says (st, from an event not
// older than the gift's last one): the pause and the amount; who ended it; and each
// waiting change that st shows made is marked done, audited, and confirmed to the donor
// by email (links of an ended gift are withdrawn). Call it in the event's transaction.
func Confirm(ctx context.Context, tx pgx.Tx, now time.Time, d Donation, st StripeState) error {
	q := dbq.New(tx)
	open, err := q.OpenManageRequests(ctx, d.ID)
	if err != nil {
		return err
	}
	if err := q.SetPausedUntil(ctx, dbq.SetPausedUntilParams{PausedUntil: st.PausedUntil, ID: d.ID}); err != nil {
		return err
	}
	amount := decimal.New(st.AmountPence, -2)
	if st.AmountPence > 0 && !amount.Equal(d.Total()) && !st.Ended {
		if err := q.SetManagedAmount(ctx, dbq.SetManagedAmountParams{Amount: amount, ID: d.ID}); err != nil {
			return err
		}
	}
	endedBy := ""
	for _, r := range open {
		done := false
		switch r.Kind {
		case ChangeCancel:
			done = st.Ended
			if done {
				endedBy = r.Actor
			}
		case ChangePause:
			done = !st.Ended && st.PausedUntil != nil && r.ResumesAt != nil && st.PausedUntil.Unix() == r.ResumesAt.Unix()
		case ChangeResume:
			done = !st.Ended && st.PausedUntil == nil
		case ChangeAmount:
			done = !st.Ended && amount.Equal(r.NewAmount)
		case ChangeCard:
			done = !st.Ended && strings.HasPrefix(r.PaymentMethodID, "pm_") && st.PaymentMethod == r.PaymentMethodID
		}
		if !done {
			continue
		}
		if err := q.ManageRequestConfirmed(ctx, dbq.ManageRequestConfirmedParams{Now: now, ID: r.ID}); err != nil {
			return err
		}
		c := Change{ID: r.ID, Kind: r.Kind, Actor: r.Actor, Reason: r.Reason, OldAmount: r.OldAmount, NewAmount: r.NewAmount, ResumesAt: r.ResumesAt}
		if err := audit.Write(ctx, tx, systemActor{}, "monthly gift change confirmed", fmt.Sprintf("donation %s: %s (request %d, asked by the %s)", d.ID, c.Describe(), r.ID, r.Actor)); err != nil {
			return err
		}
		if d.Email != "" {
			link := ""
			if r.Kind != ChangeCancel {
				if link, err = NewManageLink(ctx, tx, now, r.Site, d.ID); err != nil {
					return err
				}
			}
			if err := outbox.QueueMail(ctx, tx, changeMail(d, c, link, r.Site)); err != nil {
				return err
			}
		}
	}
	if !st.Ended {
		return nil
	}
	if endedBy == "" {
		disputed, err := q.DisputeCancelled(ctx, d.ID)
		if err != nil {
			return err
		}
		switch {
		case disputed || st.CancelReason == "payment_disputed":
			endedBy = "dispute"
		case st.CancelReason == "payment_failed" || d.Status == StatusPastDue:
			endedBy = "payment_failed"
		default:
			endedBy = "stripe"
		}
	}
	if err := q.SetEndedBy(ctx, dbq.SetEndedByParams{EndedBy: endedBy, ID: d.ID}); err != nil {
		return err
	}
	return q.RevokeManageLinks(ctx, dbq.RevokeManageLinksParams{Now: now, DonationID: d.ID})
}

// RequestManageLinks asks for a fresh manage link to be emailed for each monthly gift
// given from email, under the reset request's limit per client address
// (accounts.MaxLoginFailures a accounts.LoginWindow), and returns. Whether the address has
// a gift is looked at only later, by the ManageLinksJob queued here in every case, so the
// answer and its timing are the same either way: only a malformed address and the
// client's limit (*accounts.TooManyAttemptsError) are reported.
func RequestManageLinks(ctx context.Context, s *campaigns.Store, email, client, site string) error {
	email = accounts.NormalizeEmail(email)
	if at := strings.IndexByte(email, '@'); at < 1 || at == len(email)-1 || len(email) > 254 || strings.ContainsAny(email, " \t\r\n,<>") {
		return &campaigns.ValidationError{Fields: map[string]string{"email": "Enter the email address you gave with your gift, such as name@example.org."}}
	}
	q := dbq.New(s.Pool())
	id, err := q.RecordAttempt(ctx, dbq.RecordAttemptParams{Kind: "manage", Email: email, Client: client})
	if err != nil {
		return fmt.Errorf("manage links: record request: %w", err)
	}
	p, err := q.RequestPressure(ctx, dbq.RequestPressureParams{Kind: "manage", Client: client, ID: id,
		TimeWindow: accounts.LoginWindow, MaxRequestsOffset: accounts.MaxLoginFailures - 1})
	if err != nil {
		return fmt.Errorf("manage links: count requests: %w", err)
	}
	if p.ClientNth.After(p.Now.Add(-accounts.LoginWindow)) {
		if err := q.ForgetAttempt(ctx, id); err != nil {
			return err
		}
		return &accounts.TooManyAttemptsError{RetryAfter: max(p.ClientNth.Add(accounts.LoginWindow).Sub(p.Now), time.Second)}
	}
	return s.InTx(ctx, func(tx pgx.Tx) error {
		return campaigns.InsertJob(ctx, tx, ManageLinksJob{Request: id, Site: site})
	})
}

// ManageLinksJob emails the manage links a request (login_attempts.id, kind manage) asked
// for; the address is read from the request, never kept in the job.
type ManageLinksJob struct {
	Request int64  `json:"request"`
	Site    string `json:"site"`
}

func (ManageLinksJob) Kind() string { return "manage_links" }

func (ManageLinksJob) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: campaigns.JobQueueMail, MaxAttempts: 10}
}

// ManageLinksWorker works ManageLinksJob.
type ManageLinksWorker struct {
	river.WorkerDefaults[ManageLinksJob]
	Store *campaigns.Store
}

func (w *ManageLinksWorker) Work(ctx context.Context, job *river.Job[ManageLinksJob]) error {
	return SendManageLinks(ctx, w.Store, job.Args.Request, job.Args.Site)
}

// SendManageLinks emails a fresh link for each running monthly gift of the request's
// address (none: no email), at most one such email per address per accounts.LoginWindow
// (the links already sent still work).
func SendManageLinks(ctx context.Context, s *campaigns.Store, request int64, site string) error {
	return s.InTx(ctx, func(tx pgx.Tx) error {
		q := dbq.New(tx)
		email, err := q.ManageAttemptEmail(ctx, request)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil // pruned: an old request
		} else if err != nil {
			return err
		}
		gifts, err := q.MonthlyGiftsByEmail(ctx, email)
		if err != nil || len(gifts) == 0 {
			return err
		}
		if err := q.LockMailTo(ctx, dbq.LockMailToParams{Kind: "manage", Email: email}); err != nil {
			return err
		}
		mailed, err := q.MailedInWindow(ctx, dbq.MailedInWindowParams{Kind: "manage", Email: email, TimeWindow: accounts.LoginWindow})
		if err != nil || mailed {
			return err
		}
		if err := q.MarkMailed(ctx, request); err != nil {
			return err
		}
		var links []giftLink
		for _, g := range gifts {
			m, err := Managed(ctx, tx, g)
			if err != nil {
				return err
			}
			link, err := NewManageLink(ctx, tx, s.Now(), site, g)
			if err != nil {
				return err
			}
			links = append(links, giftLink{m, link})
		}
		if err := audit.Write(ctx, tx, DonorActor{}, "manage links sent", fmt.Sprintf("%d monthly gift(s) of %s", len(links), outbox.MaskEmail(email))); err != nil {
			return err
		}
		return outbox.QueueMail(ctx, tx, linksMail(email, links))
	})
}

// AdminMonthlyGift is a running monthly gift as /admin lists it.
type AdminMonthlyGift struct {
	ID          string
	Amount      decimal.Decimal
	Status      string
	Email       string
	PausedUntil *time.Time
	Since       time.Time
	Waiting     bool // a change waits for Stripe
}

// RunningMonthlyGifts lists up to 50 running monthly gifts, newest first, of one address
// (all, when email is empty), for an admin to cancel.
func RunningMonthlyGifts(ctx context.Context, s *campaigns.Store, email string) ([]AdminMonthlyGift, error) {
	rows, err := dbq.New(s.Pool()).MonthlyGiftsForAdmin(ctx, strings.TrimSpace(email))
	if err != nil {
		return nil, fmt.Errorf("monthly gifts: %w", err)
	}
	out := make([]AdminMonthlyGift, len(rows))
	for i, r := range rows {
		out[i] = AdminMonthlyGift{ID: r.ID, Amount: r.Amount, Status: r.Status, Email: r.Email, PausedUntil: r.PausedUntil, Since: r.CreatedAt, Waiting: r.Waiting}
	}
	return out, nil
}

func londonMidnight(t time.Time) time.Time {
	l := t.In(campaigns.London())
	return time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, campaigns.London())
}

func londonDate(t *time.Time) string {
	if t == nil {
		return ""
	}
	return UKDate(*t)
}
