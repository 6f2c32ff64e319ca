package web

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"giving/campaigns"
	"giving/campaigns/appeals"
	"giving/campaigns/donations"
	"giving/campaigns/giftaid"
	"giving/campaigns/reports"
	"giving/payments"
)

// The trustees' pages: figures, exports and reconciliation. Reading needs the trustee or
// admin role; every export is written to the audit log.

// periodFrom reads ?from=YYYY-MM-DD&to=YYYY-MM-DD (to inclusive, as people say it); the
// default is the twelve London months ending with this one.
func periodFrom(r *http.Request, now time.Time) (reports.Period, map[string]string, error) {
	q := r.URL.Query()
	from, to := strings.TrimSpace(q.Get("from")), strings.TrimSpace(q.Get("to"))
	l := now.In(campaigns.London())
	if from == "" && to == "" {
		p := reports.MonthPeriod(l.Year(), l.Month()-11, 12)
		return p, map[string]string{"from": p.From.Format("2006-01-02"), "to": p.To.AddDate(0, 0, -1).Format("2006-01-02")}, nil
	}
	form := map[string]string{"from": from, "to": to}
	ve := &campaigns.ValidationError{}
	f, ferr := time.ParseInLocation("2006-01-02", from, campaigns.London())
	if ferr != nil {
		ve.Add("from", "Enter a date like 2026-04-06")
	}
	t, terr := time.ParseInLocation("2006-01-02", to, campaigns.London())
	if terr != nil {
		ve.Add("to", "Enter a date like 2027-04-05")
	}
	if err := ve.OrNil(); err != nil {
		return reports.Period{}, form, err
	}
	p := reports.DayPeriod(f, t.AddDate(0, 0, 1))
	return p, form, p.Validate()
}

func (s *Server) defaultAppeal(r *http.Request) (appeals.Appeal, error) {
	return appeals.AppealBySlug(r.Context(), s.store, appeals.DefaultAppealSlug)
}

// dashboard is GET /trustees: every figure for a period, with charts drawn on the server
// and the same figures in tables.
func (s *Server) dashboard(w http.ResponseWriter, r *http.Request) error {
	u, _ := currentUser(r)
	// One appeal (?appeal=, the main appeal by default), or every appeal together
	// (?appeal=all); the by-fund table covers every appeal either way.
	chosen, list, err := s.appealChoice(r, "", true)
	if err != nil {
		return err
	}
	slug, heading := "all", "All appeals"
	if chosen != nil {
		slug, heading = chosen.Slug, chosen.Name
	}
	p, form, err := periodFrom(r, s.store.Now())
	if err == nil {
		err = p.ValidateForDashboard()
	}
	data := map[string]any{"Title": "Trustee dashboard", "User": u, "Chosen": slug, "Heading": heading, "All": chosen == nil,
		"Form": form, "AppealChoices": list}
	var ve *campaigns.ValidationError
	if errors.As(err, &ve) {
		data["Errors"] = ve.Fields
		s.render(w, r, http.StatusUnprocessableEntity, "dashboard.html", data)
		return nil
	}
	if err != nil {
		return err
	}
	var d reports.Dashboard
	if chosen == nil {
		d, err = reports.ReadAllAppeals(r.Context(), s.store, p)
	} else {
		d, err = reports.ReadDashboard(r.Context(), s.store, chosen.ID, p)
	}
	if err != nil {
		return err
	}
	// Long quiet stretches are one row in the table and no bars in the chart.
	monthRows := reports.FoldMonths(d.ByMonth)
	months := make([]Bar, 0, len(monthRows))
	for _, m := range monthRows {
		if !m.Quiet {
			months = append(months, Bar{Label: m.Label(), Value: m.Raised})
		}
	}
	unmatched, err := donations.ListUnmatched(r.Context(), s.store, 50)
	if err != nil {
		return err
	}
	cancels, err := donations.SubscriptionCancels(r.Context(), s.store)
	if err != nil {
		return err
	}
	funds, err := reports.ReadFunds(r.Context(), s.store, p)
	if err != nil {
		return err
	}
	data["D"] = d
	data["Funds"] = funds
	data["Cancels"] = cancels
	data["MonthRows"] = monthRows
	data["PeriodText"] = p.From.In(campaigns.London()).Format("2 Jan 2006") + " to " +
		p.To.In(campaigns.London()).AddDate(0, 0, -1).Format("2 Jan 2006")
	data["MonthChart"] = barChart("Raised by month", months)
	deskDashboard(data, d)
	if chosen == nil {
		// Each appeal has its own target and tiers: the line has no target, and the tiers
		// are listed appeal by appeal with no chart.
		points := make([]Point, 0, len(d.Cumulative))
		for _, c := range d.Cumulative {
			points = append(points, Point{Label: c.Label(), Value: c.Raised})
		}
		data["CumulativeChart"] = lineChart("Raised by every appeal since each began, at the end of each month", points, decimal.Zero)
	} else {
		tiers := make([]Bar, 0, len(d.ByTier))
		for _, t := range d.ByTier {
			label := t.Title
			if t.Amount.Sign() > 0 {
				label = payments.FormatPounds(t.Amount)
			}
			tiers = append(tiers, Bar{Label: label, Value: t.Gross})
		}
		data["TierChart"] = barChart("Gifts by tier", tiers)
	}
	data["Unreviewed"] = unmatched
	// Whole query strings, encoded here: html/template would escape a plain string's "&"
	// and "=" inside a link's query, making it one meaningless parameter.
	query := func(appeal string) template.URL {
		v := url.Values{"from": {form["from"]}, "to": {form["to"]}}
		if appeal != "" {
			v.Set("appeal", appeal)
		}
		return template.URL(v.Encode())
	}
	data["Query"], data["AllQuery"], data["PeriodQuery"] = query(slug), query("all"), query("")
	w.Header().Set("Cache-Control", "private, no-store")
	s.render(w, r, http.StatusOK, "dashboard.html", data)
	return nil
}

// exportGifts is GET /trustees/export/gifts.csv: every ledger entry of the period.
func (s *Server) exportGifts(w http.ResponseWriter, r *http.Request) error {
	u, _ := currentUser(r)
	// ?appeal= one appeal (the main appeal by default), or "all".
	a, _, err := s.appealChoice(r, "", true)
	if err != nil {
		return err
	}
	appealID := appealIDOf(a)
	p, _, err := periodFrom(r, s.store.Now())
	if err != nil {
		return err
	}
	name := fmt.Sprintf("gifts-%s-to-%s.csv", p.From.Format("2006-01-02"), p.To.AddDate(0, 0, -1).Format("2006-01-02"))
	setFileHeaders(w, name, "text/csv; charset=utf-8")
	// The file streams out row by row as the ledger is read (memory stays flat at any size);
	// its audit row is written by the export itself (reports.ExportGifts).
	out := &startedWriter{w: w}
	if err := reports.ExportGifts(r.Context(), s.store, u, out, p.From, p.To, appealID); err != nil {
		if !out.started {
			// Nothing sent yet: a clean error page instead.
			for _, h := range []string{"Content-Type", "Content-Disposition"} {
				w.Header().Del(h)
			}
			return err
		}
		// Part of the file is gone: cut the connection, so the browser reports a failed
		// download rather than saving a short file as if it were whole.
		s.log.Error("gifts export failed midway", "user", u.ID, "err", err)
		panic(http.ErrAbortHandler)
	}
	return nil
}

// startedWriter notes whether anything has been written through it.
type startedWriter struct {
	w       io.Writer
	started bool
}

func (s *startedWriter) Write(p []byte) (int, error) {
	s.started = s.started || len(p) > 0
	return s.w.Write(p)
}

func setFileHeaders(w http.ResponseWriter, name, contentType string) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s"`, name))
	w.Header().Set("Cache-Control", "private, no-store")
}

func sendFile(w http.ResponseWriter, name, contentType string, b []byte) {
	setFileHeaders(w, name, contentType)
	_, _ = w.Write(b)
}

// giftAidPage is GET /trustees/gift-aid: a preview of the next HMRC claim, and the claims
// made with HMRC's repayments (giftaid_repay.go).
func (s *Server) giftAidPage(w http.ResponseWriter, r *http.Request) error {
	return s.renderGiftAid(w, r, http.StatusOK, repayForm{}, "")
}

// appealIDOf is the id of a chosen appeal, 0 for all appeals.
func appealIDOf(a *appeals.Appeal) int64 {
	if a == nil {
		return 0
	}
	return a.ID
}

// makeClaim is POST /trustees/gift-aid/claim: makes the claim (locking its gifts, so they
// are never claimed twice) and downloads the schedule to upload to HMRC Charities Online.
func (s *Server) makeClaim(w http.ResponseWriter, r *http.Request) error {
	u, _ := currentUser(r)
	a, _, err := s.appealChoice(r, "all", true)
	if err != nil {
		return err
	}
	c, err := giftaid.MakeClaim(r.Context(), s.store, giftaid.ClaimOptions{Actor: u, AggregationLimit: s.deps.AggregationLimit,
		AppealID: appealIDOf(a)})
	if errors.Is(err, giftaid.ErrNothingToClaim) {
		http.Redirect(w, r, "/trustees/gift-aid?nothing=1", http.StatusSeeOther)
		return nil
	}
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := giftaid.WriteClaimCSV(&buf, c); err != nil {
		return err
	}
	sendFile(w, fmt.Sprintf("gift-aid-claim-%d.csv", c.ID), "text/csv; charset=utf-8", buf.Bytes())
	return nil
}

// reconcileMaxDays bounds how far back the page looks: each run lists Stripe's records for
// the whole period, and a trustee's browser is not the place for a multi-year sweep
// ('giving reconcile --since' has no such bound).
const reconcileMaxDays = 400

// reconcileSince reads ?since=YYYY-MM-DD (a UTC day, as 'giving reconcile --since' takes
// it); empty means 30 days ago. The string is returned for the form either way.
func reconcileSince(r *http.Request, now time.Time) (time.Time, string, error) {
	now = now.UTC()
	v := strings.TrimSpace(r.URL.Query().Get("since"))
	if v == "" {
		d := now.AddDate(0, 0, -30)
		return d, d.Format("2006-01-02"), nil
	}
	ve := &campaigns.ValidationError{}
	t, err := time.Parse("2006-01-02", v)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	switch {
	case err != nil:
		ve.Add("since", "Enter a day like "+now.AddDate(0, 0, -30).Format("2006-01-02"))
	case t.After(today):
		ve.Add("since", "Choose today or an earlier day: there is nothing to compare in the future")
	case t.Before(today.AddDate(0, 0, -reconcileMaxDays)):
		ve.Add("since", fmt.Sprintf("Choose a day at most %d days ago; for longer, run giving reconcile --since", reconcileMaxDays))
	}
	return t, v, ve.OrNil()
}

// reconcilePage is GET /trustees/reconcile?since=YYYY-MM-DD&appeal=: Stripe's records
// beside the ledger from that day, for every appeal (the default) or one (read only;
// recovery is 'giving reconcile --recover').
func (s *Server) reconcilePage(w http.ResponseWriter, r *http.Request) error {
	u, _ := currentUser(r)
	chosen, list, err := s.appealChoice(r, "all", true)
	if err != nil {
		return err
	}
	slug, name := "all", ""
	if chosen != nil {
		slug, name = chosen.Slug, chosen.Name
	}
	since, sinceText, err := reconcileSince(r, s.store.Now())
	data := map[string]any{"Title": "Reconciliation", "User": u, "Since": sinceText, "AppealChoices": list, "Chosen": slug, "AppealName": name}
	w.Header().Set("Cache-Control", "private, no-store")
	var ve *campaigns.ValidationError
	if errors.As(err, &ve) {
		data["Errors"] = ve.Fields
		s.render(w, r, http.StatusUnprocessableEntity, "reconcile.html", data)
		return nil
	}
	if err != nil {
		return err
	}
	if s.deps.Reconciler == nil {
		data["Unavailable"] = true
		s.render(w, r, http.StatusOK, "reconcile.html", data)
		return nil
	}
	rep, err := s.deps.Reconciler.RunFor(r.Context(), since, false, appealIDOf(chosen))
	rep.Appeal = name
	if err != nil {
		s.log.Error("reconcile", "err", err)
		data["Failed"] = true
	} else {
		var text bytes.Buffer
		rep.WriteText(&text)
		data["Report"], data["Text"] = rep, text.String()
	}
	s.render(w, r, http.StatusOK, "reconcile.html", data)
	return nil
}

// pct formats a percentage figure for tables.
func pct(d decimal.Decimal) string { return d.StringFixed(1) + "%" }
