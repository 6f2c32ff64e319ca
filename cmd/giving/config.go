package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"giving/campaigns"
	"giving/campaigns/accounts"
	"giving/campaigns/donations"
	"giving/payments"
	"giving/web"

	"github.com/jackc/pgx/v5"
)

// config is the process configuration, from the environment names the README lists.
type config struct {
	DatabaseURL    string
	ListenAddr     string
	BaseURL        *url.URL
	MetricsAddr    string
	StripeKey      string
	WebhookSecrets []string
	StripeAPIBase  string
	// Pool is DATABASE_MAX_CONNS and DATABASE_ACQUIRE_TIMEOUT, for the serving commands.
	Pool campaigns.PoolOptions
	// SMTP is SMTP_URL (mail.go); nil keeps email in the local outbox (/dev/outbox).
	SMTP *smtpConfig
	// Money is GIFT_MIN, GIFT_MAX, CARD_FEE_* and GIFT_AID_AGGREGATION_LIMIT (money.go).
	Money moneySettings
	// TrustedProxies is TRUSTED_PROXIES: the reverse proxies whose X-Forwarded-For names
	// the client (empty: the connecting address is the client).
	TrustedProxies web.TrustedProxies
	// Require2FA is REQUIRE_2FA_FOR: the roles that must use two-factor sign-in.
	Require2FA []accounts.Role
	// Charity is CHARITY_NAME, CHARITY_NUMBER, CHARITY_ADDRESS and CHARITY_EMAIL: who every
	// receipt says the donor gave to (loadCharity). exampleCharity says one of them was
	// missing and took ExampleCharity's value.
	Charity        donations.Charity
	exampleCharity bool
}

// sandbox is true when no Stripe key is set: payments go through the local sandbox gateway.
func (c config) sandbox() bool { return c.StripeKey == "" }

// needs says which settings a command cannot do without.
type needs struct {
	database bool // DATABASE_URL
	webhooks bool // with a Stripe key: STRIPE_WEBHOOK_SECRET, and https for a live key (serving)
}

// loadConfig reads and checks every setting; the first problem stops the start with one
// line naming the setting, and never echoes a secret.
func loadConfig(getenv func(string) string, need needs) (config, error) {
	c := config{
		DatabaseURL:   strings.TrimSpace(getenv("DATABASE_URL")),
		ListenAddr:    orDefault(getenv("LISTEN_ADDR"), "127.0.0.1:8080"),
		MetricsAddr:   orDefault(getenv("METRICS_ADDR"), "127.0.0.1:9090"),
		StripeKey:     strings.TrimSpace(getenv("STRIPE_SECRET_KEY")),
		StripeAPIBase: strings.TrimSpace(getenv("STRIPE_API_BASE")),
	}
	pool, err := poolOptions(getenv)
	if err != nil {
		return c, err
	}
	c.Pool = pool
	if c.SMTP, err = parseSMTPURL(getenv); err != nil {
		return c, err
	}
	if c.Money, err = loadMoney(getenv); err != nil {
		return c, err
	}
	if c.TrustedProxies, err = web.ParseTrustedProxies(getenv("TRUSTED_PROXIES")); err != nil {
		return c, fmt.Errorf("%w (a comma-separated list of addresses and CIDR ranges, e.g. 10.0.0.0/8,192.0.2.10)", err)
	}
	if c.Require2FA, err = require2FA(getenv("REQUIRE_2FA_FOR")); err != nil {
		return c, err
	}
	if need.database {
		if c.DatabaseURL == "" {
			return c, fmt.Errorf("DATABASE_URL is not set (e.g. postgres://giving@127.0.0.1:5432/giving); 'giving dev' runs without one")
		}
		u, err := url.Parse(c.DatabaseURL)
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			return c, fmt.Errorf("DATABASE_URL is not a valid PostgreSQL URL (expected postgres://user@host:5432/dbname)")
		}
	}
	for _, addr := range []struct{ name, value string }{{"LISTEN_ADDR", c.ListenAddr}, {"METRICS_ADDR", c.MetricsAddr}} {
		if _, _, err := net.SplitHostPort(addr.value); err != nil {
			return c, fmt.Errorf("%s=%q is not a host:port address (e.g. 127.0.0.1:8080)", addr.name, addr.value)
		}
	}
	// Without BASE_URL the service links to itself at the address it actually listens on
	// (serve fills it in once the port is known).
	base := strings.TrimSpace(getenv("BASE_URL"))
	if base == "" {
		return c, c.checkStripeAndCharity(nil, getenv, need.webhooks)
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return c, fmt.Errorf("BASE_URL=%q must be an absolute http(s) URL such as https://give.example.org", base)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	c.BaseURL = u
	return c, c.checkStripeAndCharity(u, getenv, need.webhooks)
}

// checkStripeAndCharity checks the Stripe settings, then the charity's (required when
// serving real payments).
func (c *config) checkStripeAndCharity(base *url.URL, getenv func(string) string, serving bool) error {
	if err := c.checkStripe(base, getenv, serving); err != nil {
		return err
	}
	var err error
	c.Charity, c.exampleCharity, err = loadCharity(getenv, serving && !c.sandbox())
	return err
}

func (c *config) checkStripe(base *url.URL, getenv func(string) string, serving bool) error {
	if c.StripeKey != "" {
		live, sandbox := payments.KeyMode(c.StripeKey)
		if sandbox || !(strings.HasPrefix(c.StripeKey, "sk_") || strings.HasPrefix(c.StripeKey, "rk_")) {
			return fmt.Errorf("STRIPE_SECRET_KEY does not look like a Stripe secret key (sk_test_..., sk_live_...)")
		}
		if serving && live && (base == nil || base.Scheme != "https") {
			return fmt.Errorf("BASE_URL must be https when STRIPE_SECRET_KEY is a live key")
		}
	}
	for _, s := range strings.Split(getenv("STRIPE_WEBHOOK_SECRET"), ",") {
		if s = strings.TrimSpace(s); s != "" {
			if !strings.HasPrefix(s, "whsec_") {
				return fmt.Errorf("STRIPE_WEBHOOK_SECRET must be one or more comma-separated whsec_... values")
			}
			c.WebhookSecrets = append(c.WebhookSecrets, s)
		}
	}
	if serving && c.StripeKey != "" && len(c.WebhookSecrets) == 0 {
		return fmt.Errorf("STRIPE_WEBHOOK_SECRET is not set: with a Stripe key, webhooks cannot be verified without it")
	}
	if c.StripeAPIBase != "" {
		if u, err := url.Parse(c.StripeAPIBase); err != nil || u.Host == "" {
			return fmt.Errorf("STRIPE_API_BASE=%q must be an absolute URL such as http://127.0.0.1:12111", c.StripeAPIBase)
		}
	}
	return nil
}

func orDefault(v, def string) string {
	if v = strings.TrimSpace(v); v != "" {
		return v
	}
	return def
}

// require2FA reads REQUIRE_2FA_FOR, e.g. "admin,trustee": the roles that must enrol in
// two-factor sign-in. Only trustees and admins see donors' data, and only they can enrol.
func require2FA(v string) ([]accounts.Role, error) {
	var roles []accounts.Role
	for _, s := range strings.Split(v, ",") {
		switch r := accounts.Role(strings.ToLower(strings.TrimSpace(s))); r {
		case "":
		case accounts.RoleAdmin, accounts.RoleTrustee:
			roles = append(roles, r)
		default:
			return nil, fmt.Errorf("REQUIRE_2FA_FOR=%q: each role must be admin or trustee (comma-separated)", v)
		}
	}
	return roles, nil
}

// ExampleCharity is what the sandbox's receipts name when CHARITY_* are not set: plainly an
// example, never a real charity's details.
var ExampleCharity = donations.Charity{
	Name:    "Example Charity (set CHARITY_NAME)",
	Number:  "000000 (example)",
	Address: "1 Example Street, London EC1A 1AA (example address)",
	Email:   "hello@example.org",
}

// loadCharity reads CHARITY_NAME, CHARITY_NUMBER, CHARITY_ADDRESS and CHARITY_EMAIL, each
// one line. required (serving real payments) makes each compulsory; otherwise (the
// sandbox, and other commands) a missing one takes ExampleCharity's, and example says so.
func loadCharity(getenv func(string) string, required bool) (c donations.Charity, example bool, err error) {
	c = ExampleCharity
	for _, f := range []struct {
		name, example string
		to            *string
	}{
		{"CHARITY_NAME", "Freedom Trust UK", &c.Name},
		{"CHARITY_NUMBER", "1234567", &c.Number},
		{"CHARITY_ADDRESS", "\"1 High Street, London EC1A 1AA\"", &c.Address},
		{"CHARITY_EMAIL", "supporters@example.org", &c.Email},
	} {
		v := strings.Join(strings.Fields(getenv(f.name)), " ")
		if strings.ContainsAny(getenv(f.name), "\r\n") {
			return c, example, fmt.Errorf("%s must be one line (e.g. %s=%s)", f.name, f.name, f.example)
		}
		switch {
		case v == "" && required:
			return c, example, fmt.Errorf("%s is not set: every donor's receipt names the charity's legal name, registered number, address and contact email (e.g. %s=%s)",
				f.name, f.name, f.example)
		case v == "":
			example = true
			continue
		case len(v) > 200:
			return c, example, fmt.Errorf("%s is longer than 200 characters", f.name)
		}
		*f.to = v
	}
	if at := strings.IndexByte(c.Email, '@'); at < 1 || at == len(c.Email)-1 || strings.ContainsAny(c.Email, " ,<>") {
		return c, example, fmt.Errorf("CHARITY_EMAIL=%q is not an email address (e.g. CHARITY_EMAIL=supporters@example.org)", c.Email)
	}
	return c, example, nil
}

// donorMail is what the webhook applier writes donors' receipts and other emails with;
// a monthly gift's emails carry a fresh manage link, made on the store's clock now. With a
// Stripe key and the charity's details incomplete (a command other than serve) it is nil:
// real donors are never sent a receipt in an example charity's name.
func (c config) donorMail(now func() time.Time) *donations.DonorMail {
	if c.exampleCharity && !c.sandbox() {
		return nil
	}
	base := ""
	if c.BaseURL != nil {
		base = c.BaseURL.String()
	}
	return &donations.DonorMail{Charity: c.Charity, BaseURL: base,
		ManageLink: func(ctx context.Context, tx pgx.Tx, donationID string) (string, error) {
			link, err := donations.NewManageLink(ctx, tx, now(), base, donationID)
			if errors.Is(err, campaigns.ErrNotFound) {
				return "", nil // no subscription yet, or the gift has ended: the email points to the charity
			}
			return link, err
		}}
}
