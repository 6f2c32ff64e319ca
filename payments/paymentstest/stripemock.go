// Package paymentstest gives tests a stripe-mock (v0.183.0, which embeds Stripe API
// 2023-10-16) to check request shapes against: the one named by STRIPE_MOCK_URL (make test
// starts one), else one started here from PATH or GOPATH/bin on a free loopback port. A test
// that needs it fails, never skips, when neither is possible.
package paymentstest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	once   sync.Once
	url    string
	reason error
)

// StripeMockURL returns the base URL of a running stripe-mock.
func StripeMockURL(t testing.TB) string {
	t.Helper()
	once.Do(func() { url, reason = find() })
	if reason != nil {
		t.Fatalf("stripe-mock is required: %v (install: go install github.com/stripe/stripe-mock@v0.183.0, or set STRIPE_MOCK_URL)", reason)
	}
	return url
}

func find() (string, error) {
	if u := os.Getenv("STRIPE_MOCK_URL"); u != "" {
		return u, nil
	}
	bin, err := exec.LookPath("stripe-mock")
	if err != nil {
		gopath := os.Getenv("GOPATH")
		if gopath == "" {
			home, _ := os.UserHomeDir()
			gopath = filepath.Join(home, "go")
		}
		bin = filepath.Join(gopath, "bin", "stripe-mock")
		if _, err := os.Stat(bin); err != nil {
			return "", fmt.Errorf("no stripe-mock binary in PATH or %s", bin)
		}
	}
	httpPort, httpsPort := freePort(), freePort()
	cmd := exec.Command(bin, "-http-addr", fmt.Sprintf("127.0.0.1:%d", httpPort),
		"-https-addr", fmt.Sprintf("127.0.0.1:%d", httpsPort), "-strict-version-check")
	// It lives as long as the test process: the kernel kills it when the test binary exits.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return "", err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", httpPort)
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return "http://" + addr, nil
		}
	}
	_ = cmd.Process.Kill()
	return "", fmt.Errorf("stripe-mock did not start on %s", addr)
}

func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 12111
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
