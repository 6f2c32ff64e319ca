package campaigns

import (
	"context"
	"fmt"
	"time"

	pgxdecimal "github.com/jackc/pgx-shopspring-decimal"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// DB is what a query needs: the pool, or the transaction a service method opened.
type DB interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Store is the domain's access to PostgreSQL. Service methods own their transactions and
// pass them down to helpers.
type Store struct {
	pool *pgxpool.Pool
	now  func() time.Time
	// Quota bounds each fundraiser's pages and photos; zero fields take pages.DefaultPageQuota's.
	Quota PageQuota
}

// NewStore wraps a pool opened with OpenPool, on the system clock.
func NewStore(pool *pgxpool.Pool) *Store { return &Store{pool: pool, now: SystemClock} }

// SystemClock is the one clock of production code: every other read of the time goes
// through a Store's Now (or a clock passed in the same way), so tests set the time instead
// of sleeping for it.
func SystemClock() time.Time { return time.Now() }

// WithClock returns a Store that reads the time from now (tests: a fixed or stepped clock).
func (s *Store) WithClock(now func() time.Time) *Store {
	c := *s
	c.now = now
	return &c
}

// Now is the current time on the store's clock.
func (s *Store) Now() time.Time { return s.now() }

// Pool is the connection pool: for the domain packages' reads, the audit log, migrations,
// health checks and closing at exit. Changes go through the domain's operations, which
// open their transactions (InTx).
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// InTx runs fn in one transaction: committed when fn returns nil, rolled back otherwise.
func (s *Store) InTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, s.pool, fn)
}

// InTxValue is InTx for a function that also returns a value: fn runs in one transaction,
// committed when it returns no error, and its value is returned either way.
func InTxValue[T any](ctx context.Context, s *Store, fn func(tx pgx.Tx) (T, error)) (T, error) {
	var v T
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		var err error
		v, err = fn(tx)
		return err
	})
	return v, err
}

// PoolOptions tunes OpenPool.
type PoolOptions struct {
	MaxConns int32
	// AcquireWait bounds how long a query waits for a free connection when every one is
	// busy (a slow database, a held lock); then it fails with context.DeadlineExceeded,
	// which callers answer with 503. 0 waits as long as the caller's context allows.
	AcquireWait time.Duration
}

// DefaultAcquireWait is the service's bound on waiting for a connection: a visitor or
// Stripe gets a quick 503 to retry rather than a request queued for half a minute.
const DefaultAcquireWait = 2 * time.Second

// OpenPool connects to PostgreSQL with numeric columns mapped to decimal.Decimal. It does
// not wait for the server: callers ping when they need to.
func OpenPool(ctx context.Context, dsn string, opt PoolOptions) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's message can echo the URL; never repeat a password.
		return nil, fmt.Errorf("DATABASE_URL is not a valid PostgreSQL URL (expected postgres://user@host:5432/dbname)")
	}
	if opt.MaxConns > 0 {
		cfg.MaxConns = opt.MaxConns
	}
	cfg.AfterConnect = func(_ context.Context, c *pgx.Conn) error {
		pgxdecimal.Register(c.TypeMap())
		return nil
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	}
	if opt.AcquireWait > 0 {
		cfg.ConnConfig.Tracer = acquireWait{opt.AcquireWait}
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open database pool: %w", err)
	}
	return pool, nil
}

// acquireWait gives each pool acquire a deadline of its own. pgxpool has no acquire timeout
// and its Query, Exec and Begin wait on the caller's context, which for a request has no
// deadline; its acquire tracer is the one hook that may replace the context Acquire waits
// on. Only the wait is bounded: the query runs on the caller's context, and a connection
// still being opened when the wait ends joins the pool for the next caller.
type acquireWait struct{ d time.Duration }

type acquireCancelKey struct{}

func (a acquireWait) TraceAcquireStart(ctx context.Context, _ *pgxpool.Pool, _ pgxpool.TraceAcquireStartData) context.Context {
	ctx, cancel := context.WithTimeout(ctx, a.d)
	return context.WithValue(ctx, acquireCancelKey{}, cancel)
}

// TraceAcquireEnd gets the context TraceAcquireStart returned, so it can release its timer.
func (acquireWait) TraceAcquireEnd(ctx context.Context, _ *pgxpool.Pool, _ pgxpool.TraceAcquireEndData) {
	if cancel, ok := ctx.Value(acquireCancelKey{}).(context.CancelFunc); ok {
		cancel()
	}
}

// A pool's tracer must also be a pgx.QueryTracer; queries are not traced.
func (acquireWait) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	return ctx
}

func (acquireWait) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// PageQuota is what one fundraiser's pages may hold, so one account cannot fill the
// database or the disk: a number of pages, and the bytes of their photos' stored copies.
type PageQuota struct {
	Pages      int
	PhotoBytes int64
}

// CharityName is the charity that claims Gift Aid, as it appears in declarations.
const CharityName = "Fundraising for Freedom"
