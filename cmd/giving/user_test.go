package main

import (
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"giving/migrations/testdb"
	"giving/web/webtest"
)

func passwordFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "password")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// The whole binary: an admin added on the command line logs in to the running service
// and finds both events in the audit log.
func TestUserAddCreatesAnAdminWhoCanLogIn(t *testing.T) {
	t.Parallel()
	env := map[string]string{"DATABASE_URL": testdb.DSN(t)}
	pw := passwordFile(t, "a long enough passphrase\nsecond line ignored\n")
	out, err := runCmd(t, env, "user", "add", "--email", "Admin@Example.org", "--role", "admin", "--password-file", pw)
	if err != nil || !strings.Contains(out, "added admin admin@example.org") {
		t.Fatalf("user add: %v\n%s", err, out)
	}
	if _, err := runCmd(t, env, "user", "add", "--email", "admin@example.org", "--role", "trustee", "--password-file", pw); err == nil ||
		!strings.Contains(err.Error(), "already exists") {
		t.Errorf("adding the same email again: %v", err)
	}

	if out, err := runCmd(t, env, "seed"); err != nil {
		t.Fatalf("seed: %v\n%s", err, out)
	}
	s := start(t, env, "serve")
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	resp, err := c.PostForm(s.URL+"/login", url.Values{"email": {"admin@example.org"}, "password": {"a long enough passphrase"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/trustees" {
		t.Fatalf("log in: %d at %s, want the trustee dashboard", resp.StatusCode, resp.Request.URL)
	}
	resp, err = c.Get(s.URL + "/trustees/audit")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"admin@example.org as admin", "command line", "login"} {
		if webtest.Count(t, string(body), `table.audit-log tbody td:contains("`+want+`")`) == 0 {
			t.Errorf("audit log lacks %q", want)
		}
	}
}

func TestUserAddRefusesBadInput(t *testing.T) {
	t.Parallel()
	// No database is needed to refuse these: nothing is written.
	env := map[string]string{}
	cases := []struct {
		args  []string
		says  string
		usage bool
	}{
		{[]string{"--email", "a@example.org", "--role", "trustee", "--password-file", passwordFile(t, "short pass\n")},
			"password refused: The password must be at least 12 characters long.", false},
		{[]string{"--email", "a@example.org", "--role", "trustee", "--password-file", passwordFile(t, "\n")}, "no password", false},
		{[]string{"--email", "a@example.org", "--role", "admin", "--password-file", passwordFile(t, "123456789012\n")},
			"password refused: A run of characters in order", false},
		{[]string{"--email", "a@example.org", "--role", "admin", "--password-file", passwordFile(t, "aaaaaaaaaaaa\n")},
			"password refused: A password that repeats", false},
		{[]string{"--role", "trustee"}, "--email", true},
		{[]string{"--email", "a@example.org"}, "--role", true},
		{[]string{"--email", "a@example.org", "--role", "treasurer"}, "admin, trustee or fundraiser", true},
		{[]string{"--email", "a@example.org", "--role", "admin", "--password-stdin", "--password-file", "x"}, "not both", true},
	}
	for _, c := range cases {
		_, err := runCmd(t, env, append([]string{"user", "add"}, c.args...)...)
		var u usageError
		if err == nil || !strings.Contains(err.Error(), c.says) || errors.As(err, &u) != c.usage {
			t.Errorf("user add %v: %v, want an error saying %q (usage error %v)", c.args, err, c.says, c.usage)
		}
	}
	if _, err := runCmd(t, env, "user", "remove"); err == nil {
		t.Error("an unknown user subcommand was accepted")
	}
}

func TestUserHelp(t *testing.T) {
	t.Parallel()
	out, err := runCmd(t, nil, "user", "add", "--help")
	for _, want := range []string{"Usage: giving user add", "--email", "--role", "--password-stdin", "12 to 128 characters", "audit log"} {
		if err != nil || !strings.Contains(out, want) {
			t.Errorf("giving user add --help lacks %q (%v):\n%s", want, err, out)
		}
	}
	out, err = runCmd(t, nil, "help", "user")
	if err != nil || !strings.Contains(out, "giving user add --email") {
		t.Errorf("giving help user: %v\n%s", err, out)
	}
	if out, _ := runCmd(t, nil, "help"); !strings.Contains(out, "user add") {
		t.Errorf("giving help does not mention user add")
	}
}
