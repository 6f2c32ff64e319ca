package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"

	"giving/campaigns/appeals"
	"giving/migrations"
	"giving/payments"
)

func cmdDev(ctx context.Context, args []string, env func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("dev", "dev [--data .data]", `The embedded default, what 'make run' calls. Without DATABASE_URL it starts a private
PostgreSQL cluster under the data directory (installing the server with apt when it is
missing and you are root), listening only on a unix socket there, never on port 5432.
Then it migrates, seeds the appeal and serves on 127.0.0.1:8080 with the sandbox payment
gateway. Ctrl-C stops the service and the cluster; the next run reuses the data.
A live Stripe key is refused: dev never moves real money. Donors' receipts name an
example charity unless CHARITY_NAME, CHARITY_NUMBER, CHARITY_ADDRESS and CHARITY_EMAIL are set.`, stdout)
	dataDir := fs.String("data", ".data", "directory for the private PostgreSQL cluster")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(env, needs{webhooks: true})
	if err != nil {
		return err
	}
	if live, _ := payments.KeyMode(cfg.StripeKey); live {
		return fmt.Errorf("STRIPE_SECRET_KEY is a live key: 'giving dev' only runs with a test key or the sandbox")
	}
	// The ports first: one in use must stop the start before PostgreSQL starts or migrates.
	lns, err := listen(cfg)
	if err != nil {
		return err
	}
	defer lns.close()
	log := newLogger(stderr, true)
	if cfg.DatabaseURL == "" {
		abs, err := filepath.Abs(filepath.Join(*dataDir, "postgres"))
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "giving: starting a private PostgreSQL in %s\n", abs)
		dsn, stop, err := startPrivatePostgres(ctx, abs, stdout)
		if err != nil {
			return err
		}
		defer func() {
			fmt.Fprintln(stdout, "giving: stopping the private PostgreSQL")
			if err := stop(); err != nil {
				fmt.Fprintln(stderr, "giving: stopping PostgreSQL:", err)
			}
		}()
		cfg.DatabaseURL = dsn
		// No password: the cluster trusts only its own socket. Printed so a second terminal
		// can run 'giving user add' (the first admin) against it.
		fmt.Fprintf(stdout, "giving: for commands in another terminal: export DATABASE_URL='%s'\n", dsn)
	}
	store, err := openStoreWith(ctx, cfg.DatabaseURL, cfg.Pool)
	if err != nil {
		return err
	}
	defer store.Pool().Close()
	applied, err := migrations.Apply(ctx, store.Pool())
	if err != nil {
		return err
	}
	for _, v := range applied {
		fmt.Fprintln(stdout, "giving: applied migration", v)
	}
	if _, err := appeals.Seed(ctx, store, appeals.SeedOptions{}); err != nil {
		return err
	}
	return serve(ctx, cfg, lns, store, log, stdout, true)
}
