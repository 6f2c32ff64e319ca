package web

import (
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"giving/campaigns/accounts"
)

// Handler is every route of the public site, in one place, read top to bottom.
func (s *Server) Handler() http.Handler {
	r := chi.NewRouter()
	// identify first: every later step, and the request's log line, knows the client.
	r.Use(s.identify, s.metrics.instrument, middleware.Recoverer, s.securityHeaders, s.readableInput)
	// A public page the cache holds, for a visitor with no session, is answered here, before
	// anything else is done for the request (pagecache.go).
	r.Use(s.front)
	// HEAD is answered by the GET route (load balancers check health with HEAD).
	r.Use(middleware.GetHead)
	// Text answers are gzipped for browsers that accept it; images already compressed
	// (PNG, JPEG, WebP photos) are sent as they are.
	r.Use(middleware.Compress(5, "text/html", "text/css", "text/javascript", "application/json", "image/svg+xml", "text/plain"))

	// Operations.
	r.Get("/healthz", s.wrap(s.healthz))
	r.Get("/readyz", s.wrap(s.readyz))
	r.Get("/static/*", s.wrap(s.static))
	r.Get("/favicon.ico", s.wrap(s.favicon))

	// Stripe posts here; it is verified by signature, not by origin.
	if s.deps.Webhooks != nil {
		r.Method(http.MethodPost, "/webhooks/stripe", s.deps.Webhooks)
	}

	// Everything a person does in a browser is protected against cross-site posts.
	r.Group(func(r chi.Router) {
		r.Use(crossOrigin, middleware.Timeout(30*time.Second))
		r.Use(s.session) // sessions live in PostgreSQL; no cookie, no database work
		// With REQUIRE_2FA_FOR, an account of those roles enrols before anything else.
		r.Use(s.requireTwoFactor)
		r.Get("/", s.wrap(s.cachedPage(s.appealPage))) // rendered once a second for the public (pagecache.go)
		r.Get("/api/campaigns/{slug}", s.wrap(s.campaignJSON))
		// Every other appeal at its own address, with its photo (appeals.go).
		r.Get("/a/{slug}", s.wrap(s.cachedPage(s.otherAppealPage)))
		r.Get("/a/{slug}/photo", s.wrap(s.appealPhoto))
		r.Get("/f/{slug}", s.wrap(s.cachedPage(s.fundraiserPage)))
		r.Get("/api/fundraisers/{slug}", s.wrap(s.fundraiserJSON))
		// A page's photo: public with the page, else only to its owner and trustees (pages.go).
		r.Get("/f/{slug}/photo", s.wrap(s.pagePhoto))
		// QR codes of the public pages, for posters and collection tins (share.go).
		r.Get("/qr.svg", s.wrap(s.appealQR("svg")))
		r.Get("/qr.png", s.wrap(s.appealQR("png")))
		r.Get("/f/{slug}/qr.svg", s.wrap(s.pageQR("svg")))
		r.Get("/f/{slug}/qr.png", s.wrap(s.pageQR("png")))
		// Teams of pages, and the progress widget other sites may frame (teams.go).
		r.Get("/t/{slug}", s.wrap(s.teamPage))
		r.Get("/t/{slug}/qr.svg", s.wrap(s.teamQR("svg")))
		r.Get("/t/{slug}/qr.png", s.wrap(s.teamQR("png")))
		r.Get("/embed", s.wrap(s.embed("", "html")))
		r.Get("/embed/bar.svg", s.wrap(s.embed("", "svg")))
		r.Get("/embed/{kind:[ft]}/{slug}", s.wrap(s.embedOf("html")))
		r.Get("/embed/{kind:[ft]}/{slug}/bar.svg", s.wrap(s.embedOf("svg")))

		// Giving: the form posts here, then the donor pays at Stripe (or the sandbox).
		r.Post("/donate", s.wrap(s.donate))
		r.Get("/thanks", s.wrap(s.thanks))
		r.Get("/donate/cancelled", s.wrap(s.cancelled))
		if s.deps.Sandbox != nil {
			r.Get("/sandbox/checkout/{session}", s.wrap(s.sandboxCheckout))
			r.Post("/sandbox/checkout/{session}/pay", s.wrap(s.sandboxPay))
			r.Post("/sandbox/checkout/{session}/decline", s.wrap(s.sandboxDecline))
			// A development page: play a monthly gift's next month as Stripe would (sandbox.go).
			r.Get("/sandbox/monthly", s.wrap(s.sandboxMonthly))
			r.Post("/sandbox/monthly/{donation}/{action}", s.wrap(s.sandboxMonth))
			// Collect or refuse a Direct Debit set up at the sandbox checkout (directdebit.go).
			r.Get("/sandbox/directdebit", s.wrap(s.sandboxDirectDebits))
			r.Post("/sandbox/directdebit/{donation}/{action}", s.wrap(s.sandboxSettleDebit))
		}

		// A donor manages her monthly gift through an emailed link, with no account (manage.go).
		r.Get("/manage", s.wrap(s.manageRequestPage))
		r.Post("/manage", s.wrap(s.manageRequest))
		r.Get("/manage/{token}", s.wrap(s.managePage))
		r.Post("/manage/{token}/{action}", s.wrap(s.manageChange))
		r.Post("/manage/{token}/giftaid/cancel", s.wrap(s.manageCancelGiftAid))
		r.Get("/manage/{token}/statement/{year}.pdf", s.wrap(s.statementPDF)) // her tax year's statement (statement.go)
		if s.deps.Sandbox != nil {
			r.Get("/sandbox/setup/{session}", s.wrap(s.sandboxSetupPage))
			r.Post("/sandbox/setup/{session}/save", s.wrap(s.sandboxSaveCard))
		}

		// The charity's own pages, and the link in every email to stop hearing from us
		// (charity.go): opening it changes nothing, its button does.
		r.Get("/privacy", s.wrap(s.charityPage("privacy")))
		r.Get("/contact", s.wrap(s.charityPage("contact")))
		r.Get("/complaints", s.wrap(s.charityPage("complaints")))
		r.Get("/preferences/{token}", s.wrap(s.preferencesPage))
		r.Post("/preferences/{token}", s.wrap(s.withdraw))

		// Accounts: trustees and admins log in; every log-in and log-out is audited.
		r.Get("/login", s.wrap(s.loginPage))
		r.Post("/login", s.wrap(s.login))
		// The second step for an account with two-factor sign-in (twofactor.go); trustees and
		// admins enrol on their account page.
		r.Get("/login/code", s.wrap(s.codePage))
		r.Post("/login/code", s.wrap(s.checkCode))
		r.With(s.requireRole(accounts.RoleTrustee, accounts.RoleAdmin)).Get("/account/two-factor", s.wrap(s.twoFactorPage))
		r.With(s.requireRole(accounts.RoleTrustee, accounts.RoleAdmin)).Post("/account/two-factor", s.wrap(s.confirmTwoFactor))
		r.Post("/logout", s.wrap(s.logout))
		r.With(s.requireRole()).Post("/logout-everywhere", s.wrap(s.logoutEverywhere))
		r.With(s.requireRole(accounts.RoleTrustee, accounts.RoleAdmin)).Get("/trustees/audit", s.wrap(s.auditPage))

		// Fundraisers sign themselves up; anyone may ask for a reset link by email (signup.go).
		r.Get("/signup", s.wrap(s.signupPage))
		r.Post("/signup", s.wrap(s.signup))
		r.Get("/signup/welcome", s.wrap(s.signupWelcome))
		// The emailed link shows a button; only the POST confirms and logs in.
		r.Get("/signup/confirm/{token}", s.wrap(s.confirmLinkPage))
		r.Post("/signup/confirm/{token}", s.wrap(s.confirmEmail))
		r.Get("/reset", s.wrap(s.resetPage))
		r.Post("/reset", s.wrap(s.resetRequest))
		r.Get("/reset/{token}", s.wrap(s.resetLinkPage))
		r.Post("/reset/{token}", s.wrap(s.resetWithLink))
		// Without SMTP_URL, mail stays in the outbox, listed here for the developer.
		if s.deps.DevOutbox {
			r.Get("/dev/outbox", s.wrap(s.devOutbox))
			r.Get("/dev/outbox/{id}/html", s.wrap(s.devOutboxHTML))
		}

		// Fundraisers write their own pages, see the gifts to them, record offline money and
		// thank donors; the domain answers 404 for anything that is not theirs (pages.go).
		r.Group(func(r chi.Router) {
			r.Use(s.requireRole(accounts.RoleFundraiser))
			r.Get("/fundraise", s.wrap(s.fundraiseDashboard))
			r.Get("/fundraise/new", s.wrap(s.newPage))
			r.Post("/fundraise/new", s.wrap(s.createPage))
			r.Get("/fundraise/{id}/edit", s.wrap(s.editPage))
			r.Post("/fundraise/{id}/edit", s.wrap(s.updatePage))
			r.Post("/fundraise/{id}/offline", s.wrap(s.submitOffline))
			r.Post("/fundraise/gifts/{donation}/thank", s.wrap(s.thankGift))
			r.Post("/fundraise/gifts/{donation}/message", s.wrap(s.hideMessage))
			// Updates, an end date or a memorial, and teams (teams.go).
			r.Get("/fundraise/{id}/more", s.wrap(s.pageMore))
			r.Post("/fundraise/{id}/updates", s.wrap(s.postUpdate))
			r.Post("/fundraise/{id}/updates/{update}/delete", s.wrap(s.deleteUpdate))
			r.Post("/fundraise/{id}/lifecycle", s.wrap(s.setLifecycle))
			r.Post("/fundraise/{id}/team", s.wrap(s.createTeam))
			r.Get("/fundraise/teams/join/{code}", s.wrap(s.joinTeamPage))
			r.Post("/fundraise/teams/join/{code}", s.wrap(s.joinTeam))
		})

		// Trustees read everything and export; every export is audited.
		r.Group(func(r chi.Router) {
			r.Use(s.requireRole(accounts.RoleTrustee, accounts.RoleAdmin))
			r.Get("/trustees", s.wrap(s.dashboard))
			r.Get("/trustees/export/gifts.csv", s.wrap(s.exportGifts))
			r.Get("/trustees/gift-aid", s.wrap(s.giftAidPage))
			r.Post("/trustees/gift-aid/claim", s.wrap(s.makeClaim))
			r.Post("/trustees/gift-aid/claims/{id}/repayment", s.wrap(s.recordRepayment)) // giftaid_repay.go
			r.Get("/trustees/reconcile", s.wrap(s.reconcilePage))
			r.Post("/trustees/messages/{donation}", s.wrap(s.hideMessage))
			// Payouts broken down and matched to the ledger, and their Xero statement (payouts.go).
			r.Get("/trustees/payouts", s.wrap(s.payoutsPage))
			r.Get("/trustees/payouts/xero.csv", s.wrap(s.payoutsXero))
			r.Post("/trustees/payouts/fetch", s.wrap(s.payoutsFetch))
			if s.sandbox {
				r.Post("/trustees/payouts/sandbox", s.wrap(s.payoutsSandbox))
			}
			r.Get("/trustees/export/consented-{channel}.csv", s.wrap(s.exportConsented)) // charity.go
		})
		// Admins also change the appeal, its tiers and pages; every change is audited.
		r.Group(func(r chi.Router) {
			r.Use(s.requireRole(accounts.RoleAdmin))
			r.Get("/admin", s.wrap(s.adminPage))
			// Appeals, their tiers, photos and funds, on their own pages (appeals.go).
			r.Get("/admin/appeals", s.wrap(s.appealsPage))
			r.Post("/admin/appeals", s.wrap(s.createAppeal))
			r.Get("/admin/appeals/{id}", s.wrap(s.appealEditPage))
			r.Post("/admin/appeals/{id}", s.wrap(s.saveAppeal))
			r.Post("/admin/appeals/{id}/status", s.wrap(s.appealStatus))
			r.Post("/admin/appeals/{id}/preselect", s.wrap(s.appealPreselect))
			r.Post("/admin/appeals/{id}/photo", s.wrap(s.appealPhotoUpload))
			r.Post("/admin/appeals/{id}/tiers/{tier}", s.wrap(s.appealTier))
			r.Post("/admin/fundraisers/{id}/status", s.wrap(s.adminFundraiserStatus))
			r.Post("/admin/fundraisers/{id}/sponsored", s.wrap(s.adminSponsored))
			r.Post("/admin/offline/{id}/verify", s.wrap(s.adminVerifyOffline))
			r.Post("/admin/offline/{id}/reject", s.wrap(s.adminRejectOffline))
			r.Post("/admin/offline/{id}/reverse", s.wrap(s.adminReverseOffline))
			r.Post("/admin/unmatched/{id}/resolve", s.wrap(s.adminResolve))
			r.Post("/admin/monthly", s.wrap(s.adminPage)) // find an address's monthly gifts
			r.Post("/admin/monthly/{id}/cancel", s.wrap(s.adminCancelMonthly))
			r.Post("/admin/giftaid", s.wrap(s.adminPage)) // find an address's Gift Aid declarations
			r.Post("/admin/giftaid/cancel", s.wrap(s.adminCancelGiftAid))
			r.Post("/admin/payment-methods", s.wrap(s.adminPaymentMethods)) // card, Direct Debit (directdebit.go)
			// A donor's data rights (UK GDPR), as 'giving donor export|erase' (donors.go):
			// the email is posted, never put in a URL; erasing shows the plan until confirmed.
			r.Get("/admin/donors", s.wrap(s.donorsPage))
			r.Post("/admin/donors/export", s.wrap(s.exportDonor))
			r.Post("/admin/donors/erase", s.wrap(s.eraseDonor))
			// The charity's pages and how the donate form asks for consent (charity.go).
			r.Get("/admin/charity", s.wrap(s.adminCharityPage))
			r.Post("/admin/charity", s.wrap(s.adminSaveCharity))
		})
	})

	r.NotFound(func(w http.ResponseWriter, r *http.Request) { s.renderError(w, r, http.StatusNotFound) })
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		s.renderError(w, r, http.StatusMethodNotAllowed)
	})
	return r
}

// crossOrigin refuses state-changing requests that a browser marks as cross-site
// (Sec-Fetch-Site, else Origin against Host), Go's standard CSRF protection.
func crossOrigin(next http.Handler) http.Handler {
	return http.NewCrossOriginProtection().Handler(next)
}

// csp: only this site's own files; no page sets a <base>, so base-uri 'none' stops injected
// markup from re-pointing relative links and forms.
const csp = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; " +
	"form-action 'self' https://checkout.stripe.com; frame-ancestors 'none'; base-uri 'none'"

// securityHeaders go on every answer; HSTS only when BASE_URL is https, since a browser that
// saw it would refuse plain http for a year (and it means nothing over http anyway).
func (s *Server) securityHeaders(next http.Handler) http.Handler {
	hsts := s.baseURL != nil && s.baseURL.Scheme == "https"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", csp)
		if hsts {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		next.ServeHTTP(w, r)
	})
}
