package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// privatePort is the port number in the socket's name; the cluster listens on no TCP port
// at all, so a system PostgreSQL on 5432 is never disturbed.
const privatePort = 5433

// startPrivatePostgres runs a PostgreSQL cluster of the developer's own in dataDir,
// listening only on a unix socket, and returns a URL for its "giving" database. It
// initialises the cluster on first use and reuses it afterwards. As root it runs the
// server as the postgres user, because initdb and pg_ctl refuse to run as root.
func startPrivatePostgres(ctx context.Context, dataDir string, log io.Writer) (string, func() error, error) {
	bin, err := postgresBinaries(log)
	if err != nil {
		return "", nil, err
	}
	asUser, err := runAsUser()
	if err != nil {
		return "", nil, err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return "", nil, fmt.Errorf("create %s: %w", dataDir, err)
	}
	sockDir := socketDir(dataDir)
	if err := os.MkdirAll(sockDir, 0o755); err != nil {
		return "", nil, fmt.Errorf("create socket dir %s: %w", sockDir, err)
	}
	if asUser != nil {
		// The server user must reach and own its directories.
		for _, d := range []string{dataDir, sockDir} {
			if err := chownR(d, asUser); err != nil {
				return "", nil, err
			}
		}
		for d := filepath.Dir(dataDir); d != "/" && d != "."; d = filepath.Dir(d) {
			if fi, err := os.Stat(d); err == nil && fi.Mode().Perm()&0o001 == 0 {
				_ = os.Chmod(d, fi.Mode().Perm()|0o011) // traverse only, nothing readable
			}
		}
	}
	run := func(name string, args ...string) error { return runPG(ctx, bin, asUser, name, args...) }
	if _, err := os.Stat(filepath.Join(dataDir, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(log, "giving: initialising a new PostgreSQL cluster in %s\n", dataDir)
		if err := run("initdb", "-D", dataDir, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-instructions"); err != nil {
			return "", nil, err
		}
	}
	logFile := filepath.Join(filepath.Dir(dataDir), "postgres.log")
	if asUser != nil {
		if f, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644); err == nil {
			f.Close()
			_ = os.Chown(logFile, asUser.uid, asUser.gid)
		}
	}
	if run("pg_ctl", "-D", dataDir, "status") != nil {
		opts := fmt.Sprintf("-c listen_addresses='' -k %s -p %d", sockDir, privatePort)
		if err := run("pg_ctl", "-D", dataDir, "-o", opts, "-l", logFile, "-w", "-t", "60", "start"); err != nil {
			return "", nil, fmt.Errorf("start PostgreSQL (log: %s): %w", logFile, err)
		}
	} else {
		fmt.Fprintln(log, "giving: reusing the running private PostgreSQL")
	}
	stop := func() error {
		// Stopping happens after Ctrl-C has cancelled ctx: it needs a context of its own.
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		return runPG(stopCtx, bin, asUser, "pg_ctl", "-D", dataDir, "-m", "fast", "-w", "stop")
	}
	base := fmt.Sprintf("postgres://postgres@/%%s?host=%s&port=%d&sslmode=disable", sockDir, privatePort)
	if err := ensureDatabase(ctx, fmt.Sprintf(base, "postgres"), "giving"); err != nil {
		_ = stop()
		return "", nil, err
	}
	return fmt.Sprintf(base, "giving"), stop, nil
}

// runPG runs a PostgreSQL server program, as the postgres user when we are root.
func runPG(ctx context.Context, bin string, asUser *osUser, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, filepath.Join(bin, name), args...)
	if asUser != nil {
		cmd = exec.CommandContext(ctx, "runuser", append([]string{"-u", asUser.Username, "--", filepath.Join(bin, name)}, args...)...)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

func ensureDatabase(ctx context.Context, adminURL, name string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return fmt.Errorf("connect to the private PostgreSQL: %w", err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return err
	}
	if !exists {
		if _, err := conn.Exec(ctx, `CREATE DATABASE `+pgx.Identifier{name}.Sanitize()); err != nil {
			return fmt.Errorf("create database %s: %w", name, err)
		}
	}
	return nil
}

// socketDir is where the server's socket lives: inside the data's parent, unless that path
// is too long for a unix socket (about 107 bytes), then a short directory named after it.
func socketDir(dataDir string) string {
	d := filepath.Join(filepath.Dir(dataDir), "run")
	if len(d)+len("/.s.PGSQL.5433") < 100 {
		return d
	}
	sum := sha256.Sum256([]byte(dataDir))
	return filepath.Join(os.TempDir(), "giving-pg-"+hex.EncodeToString(sum[:6]))
}

// postgresBinaries finds initdb and pg_ctl: on PATH, else Debian's newest
// /usr/lib/postgresql/N/bin; installs the server with apt when missing and allowed.
func postgresBinaries(log io.Writer) (string, error) {
	find := func() string {
		if p, err := exec.LookPath("pg_ctl"); err == nil {
			if _, err := exec.LookPath("initdb"); err == nil {
				return filepath.Dir(p)
			}
		}
		dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
		sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
		for _, d := range dirs {
			if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
				return d
			}
		}
		return ""
	}
	if d := find(); d != "" {
		return d, nil
	}
	if os.Geteuid() != 0 {
		return "", errors.New("PostgreSQL server binaries (initdb, pg_ctl) are not installed: run 'sudo apt-get install -y postgresql', or set DATABASE_URL")
	}
	if _, err := exec.LookPath("apt-get"); err != nil {
		return "", errors.New("PostgreSQL server binaries (initdb, pg_ctl) are not installed and apt-get is unavailable: install PostgreSQL 15+, or set DATABASE_URL")
	}
	fmt.Fprintln(log, "giving: installing PostgreSQL with apt-get (one time)")
	install := func() error {
		cmd := exec.Command("apt-get", "install", "-y", "--no-install-recommends", "postgresql")
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		cmd.Stdout, cmd.Stderr = log, log
		return cmd.Run()
	}
	if err := install(); err != nil {
		update := exec.Command("apt-get", "update")
		update.Stdout, update.Stderr = log, log
		if err := update.Run(); err != nil {
			return "", fmt.Errorf("apt-get update: %w", err)
		}
		if err := install(); err != nil {
			return "", fmt.Errorf("apt-get install postgresql: %w", err)
		}
	}
	if d := find(); d != "" {
		return d, nil
	}
	return "", errors.New("installed postgresql but found no initdb under /usr/lib/postgresql/*/bin")
}

func versionOf(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

type osUser struct {
	Username string
	uid, gid int
}

// runAsUser is nil when not root; as root, the postgres user (created if missing).
func runAsUser() (*osUser, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		if out, err := exec.Command("useradd", "--system", "--home-dir", "/var/lib/postgresql", "--shell", "/bin/sh", "postgres").CombinedOutput(); err != nil {
			return nil, fmt.Errorf("running as root needs a 'postgres' user for initdb and pg_ctl, and useradd failed: %v: %s", err, out)
		}
		if u, err = user.Lookup("postgres"); err != nil {
			return nil, err
		}
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &osUser{Username: u.Username, uid: uid, gid: gid}, nil
}

func chownR(dir string, u *osUser) error {
	return filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, u.uid, u.gid)
	})
}
