package web_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"giving/campaigns/testwait"
)

// The addresses of the proxy test. Every one is loopback, so nothing leaves the machine;
// Linux answers on all of 127.0.0.0/8.
const (
	// nginxEgress is the address nginx connects to the service from (proxy_bind).
	nginxEgress = "127.0.0.2"
	// cdnAddr is where the test's requests to nginx come from: it plays the CDN in front.
	cdnAddr = "127.0.0.3"
	// Requests sent straight to the service come from 127.0.0.1, which nobody trusts.
)

// nginxBinary finds nginx; the test fails, never skips, without it (.ci/run installs it).
func nginxBinary(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("nginx"); err == nil {
		return p
	}
	for _, p := range []string{"/usr/sbin/nginx", "/usr/local/sbin/nginx"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Fatal("nginx is not installed: this test runs the service behind a real nginx (apt-get install nginx-light; .ci/run does it)")
	return ""
}

// freePort is a loopback port nothing listens on just now.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startNginx runs nginx in the foreground as one process, with everything it writes in a
// temporary directory, as a reverse proxy to upstream; it is stopped when the test ends.
// It returns nginx's URL.
func startNginx(t *testing.T, upstream string) string {
	t.Helper()
	bin := nginxBinary(t)
	dir := t.TempDir()
	port := freePort(t)
	// The chain this stands for is donor -> CDN -> nginx -> giving. The CDN (the test's
	// client, connecting from cdnAddr) sends X-Forwarded-For: <donor>, as CDNs do; nginx
	// appends the address it was connected from ($proxy_add_x_forwarded_for), so the service
	// sees "<donor>, 127.0.0.3" arriving from 127.0.0.2. With TRUSTED_PROXIES naming nginx
	// and the CDN, the right-most untrusted address is the donor; anything a donor put in
	// the header themselves stays to its left and is never believed.
	conf := fmt.Sprintf(`daemon off;
master_process off;
worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log notice;
events { worker_connections 128; }
http {
	access_log off;
	client_body_temp_path %[1]s/body;
	proxy_temp_path %[1]s/proxy;
	fastcgi_temp_path %[1]s/fastcgi;
	uwsgi_temp_path %[1]s/uwsgi;
	scgi_temp_path %[1]s/scgi;
	server {
		listen 127.0.0.1:%[2]d;
		location / {
			proxy_pass %[3]s;
			proxy_bind %[4]s;
			proxy_set_header Host $http_host;
			proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
			proxy_set_header X-Forwarded-Proto $scheme;
		}
	}
}
`, dir, port, upstream, nginxEgress)
	confPath := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cmd := exec.Command(bin, "-p", dir, "-e", filepath.Join(dir, "error.log"), "-c", confPath)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start nginx: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	testwait.Eventually(t, "nginx listening on "+addr, func() bool {
		select {
		case err := <-exited:
			log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Fatalf("nginx stopped at once (%v): %s %s", err, out.String(), log)
		default:
		}
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return false
		}
		c.Close()
		return true
	})
	return "http://" + addr
}

// from is a client whose connections leave from the loopback address local.
func from(local string) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}}
	return &http.Client{
		Timeout:       30 * time.Second,
		Transport:     &http.Transport{DialContext: func(ctx context.Context, n, a string) (net.Conn, error) { return d.DialContext(ctx, n, a) }},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// TestBehindAProxyEachDonorHasTheirOwnLimit runs the service behind a real nginx with
// TRUSTED_PROXIES naming it and the CDN in front of it.
func TestBehindAProxyEachDonorHasTheirOwnLimit(t *testing.T) {
	t.Parallel()
	logs := &syncBuffer{}
	// The burst is the default 5; the refill is slowed to next to nothing so that no
	// outcome depends on how fast the machine runs the test.
	s := newSite(t, siteOptions{perMinute: 0.001, trustedProxies: nginxEgress + "," + cdnAddr, log: logs})
	proxy := startNginx(t, s.URL)

	cdn := *s
	cdn.client = from(cdnAddr)
	give := func(via *site, base, forwardedFor string, amount string) response {
		t.Helper()
		// No form token: each post is a new gift, as from a new visit to the page.
		return via.post(base+"/donate", url.Values{"amount": {amount}, "frequency": {"one_off"}}, "X-Forwarded-For", forwardedFor)
	}
	reachedCheckout := func(r response) bool {
		return r.status == http.StatusSeeOther && strings.Contains(r.header.Get("Location"), "/sandbox/checkout/")
	}

	// Thirty donors from thirty addresses give within the minute: all reach checkout.
	for i := 1; i <= 30; i++ {
		if r := give(&cdn, proxy, fmt.Sprintf("198.51.100.%d", i), "10"); !reachedCheckout(r) {
			t.Fatalf("donor %d of 30 through the proxy: %d %s, want 303 to checkout", i, r.status, text(r.doc))
		}
	}

	// A donor who mistypes the amount is not a flood: 422s spend nothing.
	for i := range 8 {
		if r := give(&cdn, proxy, "203.0.113.7", "ten pounds"); r.status != http.StatusUnprocessableEntity {
			t.Fatalf("mistyped amount %d: %d, want 422", i+1, r.status)
		}
	}
	// One address creating sessions in a loop gets its burst of five, then 429, although it
	// puts a different made-up address in front of the header each time.
	for i := 1; i <= 5; i++ {
		if r := give(&cdn, proxy, fmt.Sprintf("10.9.8.%d, 203.0.113.7", i), "10"); !reachedCheckout(r) {
			t.Fatalf("session %d of the burst: %d, want 303 to checkout", i, r.status)
		}
	}
	r := give(&cdn, proxy, "10.9.8.6, 203.0.113.7", "10")
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
		t.Fatalf("sixth session from one address: %d (Retry-After %q), want 429", r.status, r.header.Get("Retry-After"))
	}

	// Straight to the service, not through a trusted proxy, X-Forwarded-For is ignored:
	// the sender is 127.0.0.1 whatever it claims, so changing the claim gains nothing...
	direct := *s
	direct.client = from("127.0.0.1")
	for i := 1; i <= 5; i++ {
		if r := give(&direct, s.URL, fmt.Sprintf("192.0.2.%d", i), "10"); !reachedCheckout(r) {
			t.Fatalf("direct session %d: %d, want 303 to checkout", i, r.status)
		}
	}
	if r := give(&direct, s.URL, "192.0.2.6", "10"); r.status != http.StatusTooManyRequests {
		t.Fatalf("sixth direct session, claiming yet another address: %d, want 429", r.status)
	}
	// ...and naming someone else spends none of theirs: 192.0.2.1 still gives through the proxy.
	if r := give(&cdn, proxy, "192.0.2.1", "10"); !reachedCheckout(r) {
		t.Fatalf("the donor whose address was spoofed: %d, want 303 to checkout", r.status)
	}
	if n := s.donations(); n != 30+5+5+1 {
		t.Errorf("%d donations, want %d", n, 30+5+5+1)
	}

	// Each request's log line names its client: the donor behind the proxy, and the
	// direct sender's own address rather than the one it claimed.
	log := logs.String()
	for _, want := range []string{
		`msg=request method=POST route=/donate status=303 client=198.51.100.17 `,
		`msg=request method=POST route=/donate status=429 client=203.0.113.7 `,
		`msg=request method=POST route=/donate status=429 client=127.0.0.1 `,
	} {
		if !strings.Contains(log, want) {
			t.Errorf("no log line containing %q in:\n%s", want, tail(log, 2000))
		}
	}
	if regexp.MustCompile(`client=127\.0\.0\.[23] `).MatchString(log) {
		t.Errorf("a request was logged with a proxy's address as its client")
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// How the client is read from a trusted proxy's X-Forwarded-For, seen in the request log;
// and an IPv6 client is limited by its /64, which one household or server gets whole.
func TestForwardedForFromATrustedProxy(t *testing.T) {
	t.Parallel()
	logs := &syncBuffer{}
	s := newSite(t, siteOptions{perMinute: 0.001, trustedProxies: "127.0.0.1, 10.0.0.0/8", log: logs})
	for _, c := range []struct {
		headers []string
		client  string
	}{
		{[]string{"2001:db8::1"}, "2001:db8::1"},
		{[]string{"198.51.100.1, 10.1.2.3"}, "198.51.100.1"},              // a trusted hop is skipped
		{[]string{"203.0.113.5", "198.51.100.9"}, "198.51.100.9"},         // two headers are one list
		{[]string{"not an address"}, "127.0.0.1"},                         // garbage: the proxy itself
		{[]string{"198.51.100.1, not an address, 10.1.2.3"}, "127.0.0.1"}, // never left of garbage
		{nil, "127.0.0.1"},
	} {
		req, err := http.NewRequest(http.MethodGet, s.URL+"/healthz", nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range c.headers {
			req.Header.Add("X-Forwarded-For", h)
		}
		before := len(logs.String())
		if r := s.do(req); r.status != http.StatusOK {
			t.Fatalf("healthz: %d", r.status)
		}
		if line := logs.String()[before:]; !strings.Contains(line, "route=/healthz status=200 client="+c.client+" ") {
			t.Errorf("X-Forwarded-For %q: logged %q, want client %s", c.headers, line, c.client)
		}
	}

	give := func(addr string) int {
		return s.post("/donate", url.Values{"amount": {"10"}, "frequency": {"one_off"}}, "X-Forwarded-For", addr).status
	}
	for i := 1; i <= 5; i++ {
		if st := give(fmt.Sprintf("2001:db8:1:2::%d", i)); st != http.StatusSeeOther {
			t.Fatalf("gift %d from the /64: %d", i, st)
		}
	}
	if st := give("2001:db8:1:2:ffff:ffff:ffff:ffff"); st != http.StatusTooManyRequests {
		t.Errorf("sixth gift from another address in the same /64: %d, want 429", st)
	}
	if st := give("2001:db8:1:3::1"); st != http.StatusSeeOther {
		t.Errorf("a gift from the next /64: %d, want 303", st)
	}
}
