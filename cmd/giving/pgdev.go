package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// privatePort only names the socket file (.s.PGSQL.5433): the private cluster listens on no
// TCP address at all, so a system PostgreSQL holding 5432 is never disturbed, and two
// checkouts never collide because each has its own socket directory.
const privatePort = 5433

// maxSocketPath is the longest socket path we accept. The kernel's sun_path holds 108 bytes
// including the terminating NUL; PostgreSQL also needs "<path>.lock" beside it, so keep a margin.
const maxSocketPath = 100

// installHint is what a developer without the server binaries must run.
const installHint = "sudo apt-get install -y postgresql"

// startPrivatePostgres runs a PostgreSQL cluster of the developer's own in dataDir, listening
// only on a unix socket, and returns a URL for its "giving" database and a func that stops it.
// It initialises the cluster on first use and reuses the data (or the running server)
// afterwards. As root it runs initdb and pg_ctl as the postgres user, because both refuse to
// run as root.
func startPrivatePostgres(ctx context.Context, dataDir string, log io.Writer) (dsn string, stop func() error, err error) {
	dataDir, err = filepath.Abs(dataDir)
	if err != nil {
		return "", nil, fmt.Errorf("private PostgreSQL: data dir: %w", err)
	}
	bin, err := postgresBinaries(log)
	if err != nil {
		return "", nil, err
	}
	owner, err := runAsUser()
	if err != nil {
		return "", nil, err
	}
	parent := filepath.Dir(dataDir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", nil, fmt.Errorf("private PostgreSQL: create %s: %w", parent, err)
	}
	// PostgreSQL insists that the data directory be private (0700 or 0750).
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return "", nil, fmt.Errorf("private PostgreSQL: create %s: %w", dataDir, err)
	}
	sockDir := socketDir(dataDir)
	if err := makeSocketDir(sockDir, owner); err != nil {
		return "", nil, err
	}
	logFile := filepath.Join(parent, "postgres.log")
	if owner != nil {
		if err := prepareForUser(owner, log, dataDir, sockDir, logFile); err != nil {
			return "", nil, err
		}
	}

	run := func(ctx context.Context, name string, args ...string) error {
		return runPG(ctx, bin, owner, name, args...)
	}
	if _, err := os.Stat(filepath.Join(dataDir, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(log, "giving: initialising a new PostgreSQL cluster in %s\n", dataDir)
		if err := run(ctx, "initdb", "-D", dataDir, "-U", "postgres", "--auth=trust", "-E", "UTF8"); err != nil {
			return "", nil, fmt.Errorf("private PostgreSQL: %w", err)
		}
	} else if err != nil {
		return "", nil, fmt.Errorf("private PostgreSQL: %w", err)
	}

	if isRunning(ctx, dataDir, run) {
		fmt.Fprintf(log, "giving: reusing the PostgreSQL already running in %s\n", dataDir)
	} else {
		// -k: the socket lives in our own directory; listen_addresses='': no TCP at all.
		// pg_ctl hands -o to /bin/sh, hence the quoting of the path.
		opts := fmt.Sprintf("-k %s -c listen_addresses='' -p %d", shellQuote(sockDir), privatePort)
		fmt.Fprintf(log, "giving: starting PostgreSQL (socket in %s, log in %s)\n", sockDir, logFile)
		if err := run(ctx, "pg_ctl", "-D", dataDir, "-o", opts, "-l", logFile, "-w", "-t", "120", "start"); err != nil {
			return "", nil, fmt.Errorf("private PostgreSQL: %w\n%s", err, tail(logFile, 15))
		}
	}

	stop = func() error {
		// stop usually runs after Ctrl-C has cancelled ctx, so it needs a context of its own.
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
		defer cancel()
		if err := run(stopCtx, "pg_ctl", "-D", dataDir, "-m", "fast", "-w", "stop"); err != nil {
			return fmt.Errorf("stop private PostgreSQL: %w", err)
		}
		return nil
	}
	if err := ensureDatabase(ctx, privateDSN(sockDir, "postgres"), "giving"); err != nil {
		_ = stop()
		return "", nil, err
	}
	return privateDSN(sockDir, "giving"), stop, nil
}

// privateDSN is a pgx URL for db over the private cluster's socket.
func privateDSN(sockDir, db string) string {
	host := sockDir
	if !plainPath.MatchString(host) {
		// %20 rather than QueryEscape's "+": pgx reads a "+" in host literally.
		host = strings.ReplaceAll(url.QueryEscape(host), "+", "%20")
	}
	return fmt.Sprintf("postgres://postgres@/%s?host=%s&port=%d&sslmode=disable", db, host, privatePort)
}

var plainPath = regexp.MustCompile(`^[A-Za-z0-9/._-]+$`)

// isRunning reports whether a server is up on dataDir: a postmaster.pid alone may be left
// over from a crash, so pg_ctl status (which checks the process) must agree.
func isRunning(ctx context.Context, dataDir string, run func(context.Context, string, ...string) error) bool {
	if _, err := os.Stat(filepath.Join(dataDir, "postmaster.pid")); err != nil {
		return false
	}
	return run(ctx, "pg_ctl", "-D", dataDir, "status") == nil
}

// runPG runs the PostgreSQL program name from bin, as owner when we are root (owner != nil).
func runPG(ctx context.Context, bin string, owner *osUser, name string, args ...string) error {
	path := filepath.Join(bin, name)
	var cmd *exec.Cmd
	switch {
	case owner == nil:
		cmd = exec.CommandContext(ctx, path, args...)
	case haveCommand("runuser"):
		cmd = exec.CommandContext(ctx, "runuser", append([]string{"-u", owner.name, "--", path}, args...)...)
	default:
		quoted := []string{shellQuote(path)}
		for _, a := range args {
			quoted = append(quoted, shellQuote(a))
		}
		cmd = exec.CommandContext(ctx, "su", owner.name, "-s", "/bin/sh", "-c", strings.Join(quoted, " "))
	}
	// "/" is readable by everyone: the postgres user may not be allowed into our cwd.
	cmd.Dir = "/"
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// ensureDatabase creates database name if absent, retrying the connection for a while
// because a reused server may still be finishing crash recovery.
func ensureDatabase(ctx context.Context, adminURL, name string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	var conn *pgx.Conn
	var err error
	for {
		if conn, err = pgx.Connect(ctx, adminURL); err == nil {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("private PostgreSQL: connect %s: %w", adminURL, err)
		case <-time.After(250 * time.Millisecond):
		}
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return fmt.Errorf("private PostgreSQL: look for database %s: %w", name, err)
	}
	if exists {
		return nil
	}
	_, err = conn.Exec(ctx, `CREATE DATABASE `+pgx.Identifier{name}.Sanitize())
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P04" { // duplicate_database: another start won the race
		return nil
	}
	if err != nil {
		return fmt.Errorf("private PostgreSQL: create database %s: %w", name, err)
	}
	return nil
}

// socketDir is where the server's socket lives: beside the data directory (.data/run),
// unless that path is too long for a unix socket, then a short directory under the temp
// dir named after a hash of the data directory, so each checkout still gets its own.
func socketDir(dataDir string) string {
	d := filepath.Join(filepath.Dir(dataDir), "run")
	if len(d)+len(fmt.Sprintf("/.s.PGSQL.%d", privatePort)) <= maxSocketPath {
		return d
	}
	sum := sha256.Sum256([]byte(dataDir))
	name := "giving-pg-" + hex.EncodeToString(sum[:8])
	if d := filepath.Join(os.TempDir(), name); len(d)+len(fmt.Sprintf("/.s.PGSQL.%d", privatePort)) <= maxSocketPath {
		return d
	}
	// TMPDIR itself can be deep (some CI runners); /tmp is short on every unix.
	return filepath.Join("/tmp", name)
}

// makeSocketDir creates the socket directory. A directory in a shared temp dir could have
// been planted by someone else, so an existing one must be a real directory owned by us or
// by the server user.
func makeSocketDir(dir string, owner *osUser) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("private PostgreSQL: create socket dir %s: %w", dir, err)
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("private PostgreSQL: socket dir: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("private PostgreSQL: socket dir %s is not a directory", dir)
	}
	if uid, ok := fileUID(fi); ok && uid != os.Geteuid() && (owner == nil || uid != owner.uid) {
		return fmt.Errorf("private PostgreSQL: socket dir %s belongs to another user (uid %d); remove it", dir, uid)
	}
	return nil
}

// prepareForUser makes the server user own its directories and log file and able to reach
// them: as root, the data usually sits under directories only root may enter.
func prepareForUser(owner *osUser, log io.Writer, dataDir, sockDir, logFile string) error {
	fi, err := os.Stat(dataDir)
	if err != nil {
		return fmt.Errorf("private PostgreSQL: %w", err)
	}
	// Walk the whole tree only when the top is not yet the server user's (first run, or a
	// tree made by hand): a large cluster need not be re-chowned on every start.
	if uid, ok := fileUID(fi); !ok || uid != owner.uid {
		if err := chownTree(dataDir, owner); err != nil {
			return err
		}
	}
	if err := os.Chown(sockDir, owner.uid, owner.gid); err != nil {
		return fmt.Errorf("private PostgreSQL: chown %s: %w", sockDir, err)
	}
	f, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return fmt.Errorf("private PostgreSQL: create %s: %w", logFile, err)
	}
	f.Close()
	if err := os.Chown(logFile, owner.uid, owner.gid); err != nil {
		return fmt.Errorf("private PostgreSQL: chown %s: %w", logFile, err)
	}
	// Every ancestor needs search (x) permission for others, or the server user cannot reach
	// its data. Only x is added: nothing becomes listable or readable.
	for _, start := range []string{filepath.Dir(dataDir), filepath.Dir(sockDir)} {
		for d := start; ; d = filepath.Dir(d) {
			if st, err := os.Stat(d); err == nil && st.Mode().Perm()&0o001 == 0 {
				fmt.Fprintf(log, "giving: chmod o+x %s so the postgres user can reach its data\n", d)
				if err := os.Chmod(d, st.Mode().Perm()|0o001); err != nil {
					return fmt.Errorf("private PostgreSQL: chmod o+x %s: %w", d, err)
				}
			}
			if d == filepath.Dir(d) {
				break
			}
		}
	}
	return nil
}

// postgresBinaries returns the directory holding initdb, pg_ctl and postgres: from PATH, else
// Debian's newest /usr/lib/postgresql/N/bin. When they are missing and we are root with
// apt-get, it installs them; otherwise the error says what to run. The install takes no
// context on purpose: apt-get killed by Ctrl-C half way leaves dpkg needing repair.
func postgresBinaries(log io.Writer) (string, error) {
	if d := locatePostgres(); d != "" {
		return d, nil
	}
	if os.Geteuid() != 0 || !haveCommand("apt-get") {
		return "", fmt.Errorf("PostgreSQL server binaries (initdb, pg_ctl, postgres) are not in PATH or /usr/lib/postgresql/*/bin: install them with '%s', or set DATABASE_URL to an existing server", installHint)
	}
	apt := func(args ...string) error {
		fmt.Fprintf(log, "giving: apt-get %s\n", strings.Join(args, " "))
		cmd := exec.Command("apt-get", args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		cmd.Stdout, cmd.Stderr = log, log
		return cmd.Run()
	}
	fmt.Fprintln(log, "giving: PostgreSQL server binaries are missing; installing them with apt-get (one time)")
	if err := apt("install", "-y", "postgresql"); err != nil {
		// A fresh machine often has no package lists yet.
		if err := apt("update"); err != nil {
			return "", fmt.Errorf("apt-get update: %w (install PostgreSQL with '%s')", err, installHint)
		}
		if err := apt("install", "-y", "postgresql"); err != nil {
			return "", fmt.Errorf("apt-get install -y postgresql: %w", err)
		}
	}
	if d := locatePostgres(); d != "" {
		return d, nil
	}
	return "", errors.New("installed postgresql with apt-get but found no initdb, pg_ctl and postgres under /usr/lib/postgresql/*/bin")
}

func locatePostgres() string {
	complete := func(dir string) bool {
		for _, name := range []string{"initdb", "pg_ctl", "postgres"} {
			if fi, err := os.Stat(filepath.Join(dir, name)); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
				return false
			}
		}
		return true
	}
	// pg_ctl looks for postgres beside its own resolved path, so resolve symlinks such as
	// /usr/local/bin/pg_ctl -> /usr/lib/postgresql/15/bin/pg_ctl before checking.
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil && complete(filepath.Dir(real)) {
			return filepath.Dir(real)
		}
		if complete(filepath.Dir(p)) {
			return filepath.Dir(p)
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return debianVersion(dirs[i]) > debianVersion(dirs[j]) })
	for _, d := range dirs {
		if complete(d) {
			return d
		}
	}
	return ""
}

// debianVersion reads N from /usr/lib/postgresql/N/bin ("15", or "9.6" for old releases).
func debianVersion(binDir string) float64 {
	v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(binDir)), 64)
	return v
}

type osUser struct {
	name     string
	uid, gid int
}

// runAsUser is nil when we are not root; as root it is the postgres user, created when
// missing, because initdb and pg_ctl refuse to run as root.
func runAsUser() (*osUser, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		out, err := exec.Command("useradd", "--system", "--home-dir", "/var/lib/postgresql", "--no-create-home", "--shell", "/bin/sh", "postgres").CombinedOutput()
		if err != nil {
			return nil, fmt.Errorf("running as root needs a 'postgres' user for initdb and pg_ctl, and 'useradd --system postgres' failed: %w: %s", err, strings.TrimSpace(string(out)))
		}
		if u, err = user.Lookup("postgres"); err != nil {
			return nil, fmt.Errorf("look up user postgres after useradd: %w", err)
		}
	}
	uid, err := strconv.Atoi(u.Uid)
	if err != nil {
		return nil, fmt.Errorf("user postgres: uid %q: %w", u.Uid, err)
	}
	gid, err := strconv.Atoi(u.Gid)
	if err != nil {
		return nil, fmt.Errorf("user postgres: gid %q: %w", u.Gid, err)
	}
	return &osUser{name: u.Username, uid: uid, gid: gid}, nil
}

func chownTree(dir string, u *osUser) error {
	err := filepath.WalkDir(dir, func(p string, _ os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, u.uid, u.gid)
	})
	if err != nil {
		return fmt.Errorf("private PostgreSQL: chown %s to %s: %w", dir, u.name, err)
	}
	return nil
}

func haveCommand(name string) bool {
	_, err := exec.LookPath(name)
	return err == nil
}

// shellQuote quotes s for /bin/sh.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// tail returns the last n lines of a file, to show why the server did not start.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "last lines of " + path + ":\n" + strings.Join(lines, "\n")
}

// fileUID is the owner of fi, when the platform says.
func fileUID(fi os.FileInfo) (int, bool) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int(st.Uid), true
	}
	return 0, false
}
