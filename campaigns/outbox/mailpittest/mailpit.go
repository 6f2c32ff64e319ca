// Package mailpittest gives tests a real SMTP server to send to: Mailpit
// (github.com/axllent/mailpit, pinned at Version), started for the test on free loopback
// ports for SMTP and its HTTP API, and stopped when the test ends. Tests read each message
// back through Mailpit's API as it was received: headers, the text and HTML parts, links.
//
// The binary is built once per machine from the module proxy into the user's cache
// directory (giving-tools/mailpit-<Version>/mailpit, about a minute the first time; `make
// tools` and .ci/run build it ahead), or named by MAILPIT_BIN. A test that needs it fails,
// never skips, when it can be neither found nor built.
package mailpittest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/mail"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"giving/campaigns/testwait"
)

// Version is the Mailpit release the tests run.
const Version = "v1.33.1"

// Options configure one Mailpit.
type Options struct {
	// Users, if set, are the only SMTP logins accepted (user name to password); unset
	// accepts mail without a login.
	Users map[string]string
	// STARTTLS requires STARTTLS before mail (with a certificate the test trusts:
	// Server.TLSConfig); ImplicitTLS requires TLS from the first byte (smtps).
	STARTTLS, ImplicitTLS bool
	// AllowedRecipients, if set, is a regular expression: any other recipient is refused
	// for good with "550 5.1.0 Requested action not taken: mailbox unavailable".
	AllowedRecipients string
	// Chaos lets the test make Mailpit fail on purpose (SetRecipientFailure).
	Chaos bool
}

// Server is a running Mailpit.
type Server struct {
	// Host and Port are its SMTP address (127.0.0.1 and a free port).
	Host, Port string
	// API is the base URL of its HTTP API.
	API string
	// TLSConfig trusts its certificate (set with STARTTLS or ImplicitTLS).
	TLSConfig *tls.Config
}

// SMTPAddr is host:port of the SMTP listener.
func (s *Server) SMTPAddr() string { return net.JoinHostPort(s.Host, s.Port) }

// Start runs a Mailpit for t with o.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	bin := binary(t)
	dir := t.TempDir()
	smtpPort, httpPort := freePort(t), freePort(t)
	s := &Server{Host: "127.0.0.1", Port: strconv.Itoa(smtpPort), API: fmt.Sprintf("http://127.0.0.1:%d", httpPort)}
	args := []string{
		"--listen", fmt.Sprintf("127.0.0.1:%d", httpPort),
		"--smtp", s.SMTPAddr(),
		"--database", filepath.Join(dir, "mailpit.db"),
		"--disable-version-check", "--smtp-disable-rdns",
	}
	if len(o.Users) > 0 {
		var lines bytes.Buffer
		for u, p := range o.Users {
			fmt.Fprintf(&lines, "%s:%s\n", u, p) // htpasswd, plain text: a throwaway test password
		}
		file := filepath.Join(dir, "smtp-users")
		if err := os.WriteFile(file, lines.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--smtp-auth-file", file)
		if !o.STARTTLS && !o.ImplicitTLS {
			args = append(args, "--smtp-auth-allow-insecure")
		}
	}
	if o.STARTTLS || o.ImplicitTLS {
		cert, key, pool := selfSigned(t, dir)
		args = append(args, "--smtp-tls-cert", cert, "--smtp-tls-key", key)
		if o.ImplicitTLS {
			args = append(args, "--smtp-require-tls")
		} else {
			args = append(args, "--smtp-require-starttls")
		}
		s.TLSConfig = &tls.Config{RootCAs: pool, ServerName: s.Host, MinVersion: tls.VersionTLS12}
	}
	if o.AllowedRecipients != "" {
		args = append(args, "--smtp-allowed-recipients", o.AllowedRecipients)
	}
	if o.Chaos {
		args = append(args, "--enable-chaos")
	}
	logPath := filepath.Join(dir, "mailpit.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// It never outlives the test process, even one killed mid-test.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start mailpit: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		logFile.Close()
	})
	testwait.Eventually(t, "mailpit answers on "+s.API+" and "+s.SMTPAddr(), func() bool {
		select {
		case <-exited:
			log, _ := os.ReadFile(logPath)
			t.Fatalf("mailpit exited at start: %s", log)
		default:
		}
		resp, err := http.Get(s.API + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		c, err := net.Dial("tcp", s.SMTPAddr())
		if err != nil {
			return false
		}
		c.Close()
		return resp.StatusCode == http.StatusOK
	})
	return s
}

// Message is one received message as Mailpit's API gives it.
type Message struct {
	ID        string
	MessageID string
	From      *mail.Address
	To        []*mail.Address
	Subject   string
	Date      time.Time
	// Username is the SMTP login the message came in under ("" without one).
	Username string
	Text     string
	HTML     string
}

// Messages are every message received so far, oldest first, each read in full.
func (s *Server) Messages(t testing.TB) []Message {
	t.Helper()
	var list struct {
		Messages []struct{ ID string }
	}
	s.get(t, "/api/v1/messages?limit=1000", &list)
	out := make([]Message, len(list.Messages))
	for i, m := range list.Messages {
		// The list is newest first.
		s.get(t, "/api/v1/message/"+url.PathEscape(m.ID), &out[len(out)-1-i])
	}
	return out
}

// Headers are the headers of message id as received.
func (s *Server) Headers(t testing.TB, id string) map[string][]string {
	t.Helper()
	var h map[string][]string
	s.get(t, "/api/v1/message/"+url.PathEscape(id)+"/headers", &h)
	return h
}

// Raw is message id exactly as received.
func (s *Server) Raw(t testing.TB, id string) string {
	t.Helper()
	resp, err := http.Get(s.API + "/api/v1/message/" + url.PathEscape(id) + "/raw")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("mailpit raw %s: %d %v", id, resp.StatusCode, err)
	}
	return string(b)
}

// SetRecipientFailure makes Mailpit (started with Chaos) answer RCPT TO with code every
// time, or never again with code 0.
func (s *Server) SetRecipientFailure(t testing.TB, code int) {
	t.Helper()
	trigger := map[string]int{"ErrorCode": 451, "Probability": 0}
	if code != 0 {
		trigger = map[string]int{"ErrorCode": code, "Probability": 100}
	}
	body, _ := json.Marshal(map[string]any{"Recipient": trigger})
	req, _ := http.NewRequest(http.MethodPut, s.API+"/api/v1/chaos", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("mailpit chaos: %d", resp.StatusCode)
	}
}

func (s *Server) get(t testing.TB, path string, into any) {
	t.Helper()
	resp, err := http.Get(s.API + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("mailpit GET %s: %d %s", path, resp.StatusCode, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
		t.Fatalf("mailpit GET %s: %v", path, err)
	}
}

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// binary finds or builds the pinned Mailpit.
func binary(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() { binPath, binErr = findOrBuild() })
	if binErr != nil {
		t.Fatalf("mailpit %s is required: %v (build it: GOBIN=%s go install github.com/axllent/mailpit@%s, or set MAILPIT_BIN)",
			Version, binErr, CacheDir(), Version)
	}
	return binPath
}

// CacheDir is where the pinned Mailpit is built: giving-tools/mailpit-<Version> in the
// user's cache directory ($XDG_CACHE_HOME or ~/.cache).
func CacheDir() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	return filepath.Join(dir, "giving-tools", "mailpit-"+Version)
}

func findOrBuild() (string, error) {
	if b := os.Getenv("MAILPIT_BIN"); b != "" {
		return b, nil
	}
	dir := CacheDir()
	bin := filepath.Join(dir, "mailpit")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	// Test binaries of several packages may start at once: one builds, the others wait.
	lock, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return "", err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", err
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("no mailpit in %s and no go command to build it", dir)
	}
	cmd := exec.Command(goCmd, "install", "github.com/axllent/mailpit@"+Version)
	cmd.Env = append(os.Environ(), "GOBIN="+dir, "CGO_ENABLED=0")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go install github.com/axllent/mailpit@%s: %v\n%s", Version, err, out)
	}
	return bin, nil
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// selfSigned writes a certificate for 127.0.0.1 and localhost, and returns its files and a
// pool that trusts it.
func selfSigned(t testing.TB, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "mailpit test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:         true, BasicConstraintsValid: true,
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:    []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "smtp.crt"), filepath.Join(dir, "smtp.key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}
