package main

import (
	"bufio"
	"context"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"giving/migrations/testdb"
)

// /dev/outbox shows every reset link: only for a site on this machine, and only when the
// listener itself takes no connection from another machine, whatever BASE_URL says.
func TestDevOutboxNeedsALoopbackListener(t *testing.T) {
	t.Parallel()
	local, _ := url.Parse("http://127.0.0.1:8080")
	public, _ := url.Parse("https://give.example.org")
	for _, c := range []struct {
		base   *url.URL
		listen string
		want   bool
	}{
		{local, "127.0.0.1:8080", true},
		{local, "[::1]:8080", true},
		{local, "0.0.0.0:8080", false},    // every interface
		{local, "[::]:8080", false},       // every interface
		{local, "192.0.2.10:8080", false}, // another interface
		{public, "127.0.0.1:8080", false}, // behind a proxy on this machine
		{nil, "127.0.0.1:8080", true},     // BASE_URL defaults to the listener
	} {
		addr, err := net.ResolveTCPAddr("tcp", c.listen)
		if err != nil {
			t.Fatal(err)
		}
		if got := devOutbox(config{BaseURL: c.base}, addr); got != c.want {
			t.Errorf("BASE_URL %v, listening on %s: outbox %v, want %v", c.base, c.listen, got, c.want)
		}
	}
}

// A port in use stops 'giving dev' before it starts a PostgreSQL or migrates anything, and
// the message names the setting.
func TestPortInUseStopsDevFirst(t *testing.T) {
	t.Parallel()
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	data := t.TempDir()
	for _, name := range []string{"LISTEN_ADDR", "METRICS_ADDR"} {
		env := map[string]string{"LISTEN_ADDR": "127.0.0.1:0", "METRICS_ADDR": "127.0.0.1:0"}
		env[name] = taken.Addr().String()
		out, err := runCmd(t, env, "dev", "--data", data)
		if err == nil || !strings.Contains(err.Error(), name+" "+taken.Addr().String()+" is already in use") {
			t.Errorf("%s taken: %v, want it named as in use", name, err)
		}
		if strings.Contains(out, "PostgreSQL") {
			t.Errorf("%s taken: PostgreSQL was started first:\n%s", name, out)
		}
		if _, err := os.Stat(filepath.Join(data, "postgres")); !os.IsNotExist(err) {
			t.Errorf("%s taken: a cluster was made in %s (%v)", name, data, err)
		}
	}
}

// Start-up ends with one block of addresses: the site, the listener, the metrics and the
// outbox, each once.
func TestStartUpPrintsOneBlockOfAddresses(t *testing.T) {
	t.Parallel()
	s := start(t, map[string]string{"DATABASE_URL": testdb.DSN(t)}, "dev")
	out := s.out.String()
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(out, "Ctrl-C stops") && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
		out = s.out.String()
	}
	i := strings.Index(out, "giving: ready")
	if i < 0 {
		t.Fatalf("no ready line:\n%s", out)
	}
	block := strings.Split(strings.TrimSpace(out[i:]), "\n")
	want := []string{"giving: ready, payments through sandbox", "  site       " + s.URL + "/", "  listening  " + s.URL,
		"  metrics    " + s.Metrics, "  mail       " + s.URL + "/dev/outbox", "  Ctrl-C stops"}
	if len(block) < len(want) {
		t.Fatalf("start-up block:\n%s", out[i:])
	}
	for n, w := range want {
		if !strings.HasPrefix(block[n], w) {
			t.Errorf("line %d of the block is %q, want %q", n+1, block[n], w)
		}
	}
	for _, word := range []string{"listening", "metrics  "} {
		if c := strings.Count(out, word); c != 1 {
			t.Errorf("%q printed %d times:\n%s", word, c, out)
		}
	}
}

// Ctrl-C on 'make run' stops the service gracefully and make with it, with status 0 and no
// "make: *** ... Error" for a newcomer to puzzle over.
func TestMakeRunStopsCleanlyOnCtrlC(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("make"); err != nil {
		t.Fatal("make is needed:", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "make", "--no-print-directory", "run")
	cmd.Dir = filepath.Join("..", "..")
	cmd.Env = append(os.Environ(), "DATABASE_URL="+testdb.DSN(t), "LISTEN_ADDR=127.0.0.1:0", "METRICS_ADDR=127.0.0.1:0")
	// Its own process group, as a terminal's Ctrl-C signals make and everything it started.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out := &lines{}
	cmd.Stderr = out
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			out.Write([]byte(sc.Text() + "\n"))
			if strings.HasPrefix(sc.Text(), "  listening  ") {
				close(ready)
			}
		}
	}()
	select {
	case <-ready:
	case <-ctx.Done():
		t.Fatalf("make run did not start:\n%s", out)
	}
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	// make ends itself with the same signal after its recipe (the service) has exited: a
	// shell prints nothing for that. An error from the recipe would be exit status 2.
	err = cmd.Wait()
	ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
	byCtrlC := ws.Signaled() && ws.Signal() == syscall.SIGINT
	// GNU make 4.3 itself sometimes loses the race between reaping the recipe it started and
	// handling the Ctrl-C it was sent too: it says "wait: No child processes" and exits 2
	// after the service has stopped cleanly (seen once in about fifty runs on a loaded
	// machine). That is make's, not the service's; anything else is a failure.
	makeRace := strings.Contains(out.String(), "*** wait: No child processes.")
	if makeRace {
		t.Logf("make lost its own race after the service stopped:\n%s", out)
	} else if (err != nil && !byCtrlC) || strings.Contains(out.String(), "make: ***") {
		t.Errorf("make run after Ctrl-C: %v\n%s", err, out)
	}
	if !strings.Contains(out.String(), "giving: stopped") {
		t.Errorf("the service did not stop gracefully:\n%s", out)
	}
}
