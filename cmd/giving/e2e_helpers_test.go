package main

// Helpers for the browser tests in e2e_test.go: the real binary on its own database, a
// headless Chromium driven with chromedp, screenshots, downloads and axe-core checks.

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"giving/migrations/testdb"
)

// e2eAxeVersion is the axe-core release .ci/run installs; e2eAxeDefaultPath is where it goes.
const e2eAxeVersion = "4.10.2"

var e2eAxeDefaultPath = filepath.Join("giving-tools", "axe", "node_modules", "axe-core", "axe.min.js")

const e2eAxeInstall = `npm install --prefix "$HOME/.cache/giving-tools/axe" axe-core@` + e2eAxeVersion

// Time limits: every browser step and the whole browser session are bounded, so a hung
// page fails the test instead of stalling CI.
const (
	e2eStepTimeout    = 20 * time.Second
	e2eBrowserTimeout = 4 * time.Minute
)

// e2eSite is the real `giving serve` process on a database of its own.
type e2eSite struct {
	URL       string
	env       []string // what every `giving` command of this site runs with
	bin       string
	artifacts string
}

// buildGiving compiles ./cmd/giving (the package under test) into dir.
func buildGiving(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "giving")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	// go test puts its own Go first on PATH, so this builds with the same toolchain, and a
	// race-enabled test builds a race-enabled service (reusing the same compiled packages).
	args := []string{"build", "-o", bin}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "-race" && s.Value == "true" {
				args = append(args, "-race")
			}
		}
	}
	cmd := exec.CommandContext(ctx, "go", append(args, ".")...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/giving: %v\n%s", err, out)
	}
	return bin
}

// e2eArtifacts is where a test keeps its screenshots, downloads and logs, and numbers its
// screenshots (one sequence for every tab of the test, so they sort in the order taken).
type e2eArtifacts struct {
	dir   string
	shots atomic.Int32
}

var e2eArtifactsByTest sync.Map // *testing.T → *e2eArtifacts

// e2eArtifactDir is the test's artifacts: $E2E_ARTIFACTS/<test name> (CI keeps that
// directory), else a temporary directory. A failing test says where.
func e2eArtifactDir(t *testing.T) *e2eArtifacts {
	t.Helper()
	if a, ok := e2eArtifactsByTest.Load(t); ok {
		return a.(*e2eArtifacts)
	}
	// Without E2E_ARTIFACTS the directory is removed when the test passes, and kept for a
	// look when it fails.
	root := os.Getenv("E2E_ARTIFACTS")
	keep := root != ""
	name := regexp.MustCompile(`[^A-Za-z0-9_.-]+`).ReplaceAllString(t.Name(), "_")
	var dir string
	var err error
	if keep {
		dir = filepath.Join(root, name)
		if err = os.RemoveAll(dir); err == nil {
			err = os.MkdirAll(dir, 0o755)
		}
	} else {
		dir, err = os.MkdirTemp("", "giving-e2e-"+name+"-")
	}
	if err != nil {
		t.Fatal(err)
	}
	a := &e2eArtifacts{dir: dir}
	e2eArtifactsByTest.Store(t, a)
	t.Cleanup(func() {
		e2eArtifactsByTest.Delete(t)
		switch {
		case t.Failed():
			t.Logf("screenshots and logs of %s are in %s", t.Name(), dir)
		case !keep:
			_ = os.RemoveAll(dir)
		}
	})
	return a
}

// e2eStart builds the binary, seeds a fresh migrated database and serves it on a free
// loopback port with the sandbox gateway (no Stripe key), waiting for /readyz.
func e2eStart(t *testing.T) *e2eSite {
	t.Helper()
	dir := t.TempDir()
	s := &e2eSite{bin: buildGiving(t, dir), artifacts: e2eArtifactDir(t).dir}
	// Trustees and admins must use two-factor sign-in: each enrols at first log-in.
	base := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "DATABASE_URL=" + testdb.DSN(t), "REQUIRE_2FA_FOR=admin,trustee"}
	s.env = base
	if out, err := s.giving(t, "", "seed"); err != nil {
		t.Fatalf("giving seed: %v\n%s", err, out)
	}
	// A free port can be taken between picking and listening: try a few.
	var lastErr error
	for range 3 {
		port, err := e2eFreePort()
		if err != nil {
			t.Fatal(err)
		}
		s.URL = "http://127.0.0.1:" + port
		s.env = append(base[:len(base):len(base)], "LISTEN_ADDR=127.0.0.1:"+port, "BASE_URL="+s.URL, "METRICS_ADDR=127.0.0.1:0")
		if lastErr = s.serve(t); lastErr == nil {
			return s
		}
	}
	t.Fatalf("giving serve did not start: %v", lastErr)
	return nil
}

func e2eFreePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	_, port, err := net.SplitHostPort(ln.Addr().String())
	return port, err
}

// serve starts `giving serve`, logging to server.log among the artifacts, and stops it
// gracefully (SIGTERM) when the test ends.
func (s *e2eSite) serve(t *testing.T) error {
	t.Helper()
	logPath := filepath.Join(s.artifacts, "server.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return err
	}
	cmd := exec.Command(s.bin, "serve")
	cmd.Env, cmd.Stdout, cmd.Stderr = s.env, logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait(); logf.Close() }()

	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case err := <-exited:
			b, _ := os.ReadFile(logPath)
			return fmt.Errorf("giving serve exited (%v):\n%s", err, b)
		default:
		}
		if resp, err := client.Get(s.URL + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-exited
			b, _ := os.ReadFile(logPath)
			return fmt.Errorf("giving serve: /readyz not 200 within 30 s:\n%s", b)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
			t.Errorf("giving serve did not stop within 20 s of SIGINT")
		}
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("giving serve log (last 3000 bytes):\n%s", e2eTail(b, 3000))
		}
	})
	return nil
}

func e2eTail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// giving runs one command of the binary against this site's database.
func (s *e2eSite) giving(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.bin, args...)
	cmd.Env, cmd.Stdin = s.env, strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// addUser creates an account with `giving user add`, the password piped on stdin.
func (s *e2eSite) addUser(t *testing.T, email, role, password string) {
	t.Helper()
	out, err := s.giving(t, password+"\n", "user", "add", "--email", email, "--role", role, "--password-stdin")
	if err != nil {
		t.Fatalf("giving user add --email %s --role %s: %v\n%s", email, role, err, out)
	}
}

// e2eChromePath finds Chromium: $CHROME_PATH, else chromium or chromium-browser on PATH.
// A machine without it fails the test, naming the install command.
func e2eChromePath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CHROME_PATH"); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("CHROME_PATH=%s: %v (install Chromium with `apt-get install -y chromium`, as .ci/run does)", p, err)
		}
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatalf("no Chromium for the browser tests: install it with `apt-get install -y chromium` (.ci/run does), or set CHROME_PATH")
	return ""
}

// e2eAxeSource is axe-core's axe.min.js: $AXE_CORE_JS, else the copy .ci/run installs.
var e2eAxeSource = sync.OnceValues(func() (string, error) {
	path := os.Getenv("AXE_CORE_JS")
	if path == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			return "", err
		}
		path = filepath.Join(cache, e2eAxeDefaultPath)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("axe-core not found (%w): install it with `%s` (.ci/run does), or set AXE_CORE_JS to axe.min.js", err, e2eAxeInstall)
	}
	return string(b), nil
})

// e2eTools fails the test at once, naming the install command, when Chromium or axe-core
// is missing; it returns Chromium's path.
func e2eTools(t *testing.T) string {
	t.Helper()
	exe := e2eChromePath(t)
	if _, err := e2eAxeSource(); err != nil {
		t.Fatal(err)
	}
	return exe
}

// e2eBrowser starts one headless Chromium for the test; tabs come from e2eNewTab.
func e2eBrowser(t *testing.T, exe string) context.Context {
	t.Helper()
	// The whole browser session is bounded; cancelling it stops Chromium.
	ctx, cancel := context.WithTimeout(context.Background(), e2eBrowserTimeout)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox, // root in a container has no user namespaces for the sandbox
		chromedp.Headless,
		chromedp.DisableGPU,
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelBrowser(); cancelAlloc(); cancel() })
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start Chromium %s: %v", exe, err)
	}
	return bctx
}

// e2eTab is one person's browser window: its own cookie jar (a fresh browser context).
type e2eTab struct {
	t    *testing.T
	ctx  context.Context
	site *e2eSite
	who  string // whose window, in screenshot names
	arts *e2eArtifacts
}

func e2eNewTab(t *testing.T, browserCtx context.Context, site *e2eSite, who string) *e2eTab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browserCtx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	// axe-core is injected with Runtime.evaluate; the site's CSP forbids inline scripts,
	// rightly, so the tab bypasses it for the checker only.
	if _, err := chromedp.Call(ctx, page.SetBypassCSP, page.SetBypassCSPParams{Enabled: true}); err != nil {
		t.Fatalf("bypass CSP for axe: %v", err)
	}
	return &e2eTab{t: t, ctx: ctx, site: site, who: who, arts: e2eArtifactDir(t)}
}

// e2eViewport is a screen every page is looked at on: a phone (390x844 at twice the pixels,
// as a touch device) and a laptop (1280x800).
type e2eViewport struct {
	name          string
	width, height int64
	mobile        bool
}

var (
	e2ePhone   = e2eViewport{"phone", 390, 844, true}
	e2eDesktop = e2eViewport{"desktop", 1280, 800, false}
)

// size makes the window vp's screen.
func (b *e2eTab) size(vp e2eViewport) {
	b.t.Helper()
	var opts []chromedp.EmulateViewportOption
	if vp.mobile {
		opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateScale(2))
	}
	b.do("size the window as a "+vp.name, chromedp.EmulateViewport(vp.width, vp.height, opts...))
}

// do runs browser steps with a time limit, failing the test with what was being done.
func (b *e2eTab) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, e2eStepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.screenshot("failed")
		b.t.Fatalf("%s: %v (at %s)", what, err, b.location())
	}
}

// e2eRun is do for one step that returns a value.
func e2eRun[T any](b *e2eTab, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, e2eStepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.screenshot("failed")
		b.t.Fatalf("%s: %v (at %s)", what, err, b.location())
	}
	return v
}

// goTo opens a path of the site and waits for the page to load.
func (b *e2eTab) goTo(path string) *network.Response {
	b.t.Helper()
	return b.navigate("open "+path, chromedp.Navigate(b.site.URL+path))
}

// navigate runs steps that load a new page (a click on a link or a submit button) and
// returns the response of the document it lands on.
func (b *e2eTab) navigate(what string, steps ...chromedp.Action[chromedp.Void]) *network.Response {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, e2eStepTimeout)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, steps...)
	if err != nil {
		b.screenshot("failed")
		b.t.Fatalf("%s: %v (at %s)", what, err, b.location())
	}
	return resp
}

func (b *e2eTab) location() string {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		return "unknown page: " + err.Error()
	}
	return loc
}

// path is the current page's path and query within the site.
func (b *e2eTab) path() string {
	b.t.Helper()
	u, err := url.Parse(b.location())
	if err != nil {
		b.t.Fatal(err)
	}
	if u.RawQuery != "" {
		return u.Path + "?" + u.RawQuery
	}
	return u.Path
}

// text is what a person sees in the first element matching the CSS selector (innerText).
func (b *e2eTab) text(css string) string {
	b.t.Helper()
	return e2eRun(b, "read "+css, chromedp.Text(chromedp.CSS(css)))
}

// waitText reloads the page until the element's visible text contains want: payments
// are confirmed by webhook, which may land a moment after the redirect.
func (b *e2eTab) waitText(css, want string) string {
	b.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		got := b.text(css)
		if strings.Contains(got, want) {
			return got
		}
		if time.Now().After(deadline) {
			b.screenshot("failed")
			b.t.Fatalf("%s on %s shows %q, want %q", css, b.location(), got, want)
		}
		time.Sleep(300 * time.Millisecond)
		b.navigate("reload", chromedp.Reload())
	}
}

// screenshot saves the whole page as NN-who-name.png among the test's artifacts.
func (b *e2eTab) screenshot(name string) {
	ctx, cancel := context.WithTimeout(b.ctx, e2eStepTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return
	}
	path := filepath.Join(b.arts.dir, fmt.Sprintf("%02d-%s-%s.png", b.arts.shots.Add(1), b.who, name))
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
	}
}

// e2eAxeViolation is the part of an axe-core result a person needs to fix it.
type e2eAxeViolation struct {
	ID      string `json:"id"`
	Impact  string `json:"impact"`
	Help    string `json:"help"`
	HelpURL string `json:"helpUrl"`
	Nodes   []struct {
		Target  string `json:"target"`
		HTML    string `json:"html"`
		Summary string `json:"summary"`
	} `json:"nodes"`
}

const e2eAxeScript = `axe.run(document, {resultTypes: ["violations"]}).then(r => r.violations.map(v => ({
  id: v.id, impact: v.impact || "", help: v.help, helpUrl: v.helpUrl,
  nodes: v.nodes.map(n => ({target: n.target.map(String).join(" "), html: n.html, summary: n.failureSummary || ""}))
})))`

// checkA11y screenshots the page and runs axe-core on it: a "serious" or "critical"
// violation fails the test with the rule, its help and the offending nodes; lesser ones
// are logged.
func (b *e2eTab) checkA11y(name string) {
	b.t.Helper()
	b.screenshot(name)
	src, err := e2eAxeSource()
	if err != nil {
		b.t.Fatal(err)
	}
	b.do("inject axe-core", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Run(ctx, chromedp.Evaluate[bool](src+";\ntypeof axe === 'object'"))
		return err
	}))
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	vs, err := chromedp.Run(ctx, chromedp.Evaluate[[]e2eAxeViolation](e2eAxeScript, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("axe-core on %s: %v", name, err)
	}
	for _, v := range vs {
		var nodes strings.Builder
		for _, n := range v.Nodes {
			fmt.Fprintf(&nodes, "\n    %s  %s\n      %s", n.Target, n.HTML, strings.ReplaceAll(n.Summary, "\n", "\n      "))
		}
		msg := fmt.Sprintf("accessibility (%s) on %s page %s: %s [%s] %s (%s)%s", v.Impact, name, b.path(), v.ID, v.Impact, v.Help, v.HelpURL, nodes.String())
		if v.Impact == "serious" || v.Impact == "critical" {
			b.t.Error(msg)
		} else {
			b.t.Log(msg)
		}
	}
}

// download clicks what starts a download (a link or a form's button) and returns the
// file's suggested name and content, as the browser saved it.
func (b *e2eTab) download(what string, click chromedp.Action[chromedp.Void]) (string, []byte) {
	b.t.Helper()
	dir := filepath.Join(b.arts.dir, "downloads-"+b.who)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(b.ctx, e2eStepTimeout)
	defer cancel()
	if _, err := chromedp.Call(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir, EventsEnabled: e2ePtr(true),
		BrowserContextID: chromedp.FromContext(b.ctx).BrowserContextID,
	}); err != nil {
		b.t.Fatalf("allow downloads: %v", err)
	}
	begins := chromedp.Events(ctx, browser.DownloadWillBegin)
	progress := chromedp.Events(ctx, browser.DownloadProgress)
	if err := chromedp.Do(ctx, click); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
	var name, guid string
	for ev, err := range begins {
		if err != nil {
			b.t.Fatalf("%s: no download began: %v", what, err)
		}
		name, guid = ev.SuggestedFilename, ev.GUID
		break
	}
	for ev, err := range progress {
		if err != nil {
			b.t.Fatalf("%s: download %s did not finish: %v", what, name, err)
		}
		if ev.GUID != guid {
			continue
		}
		if ev.State == browser.DownloadProgressStateCanceled {
			b.t.Fatalf("%s: download %s was cancelled", what, name)
		}
		if ev.State == browser.DownloadProgressStateCompleted {
			break
		}
	}
	data, err := os.ReadFile(filepath.Join(dir, guid))
	if err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
	// Keep it under its real name for whoever reads the artifacts.
	_ = os.WriteFile(filepath.Join(dir, name), data, 0o644)
	return name, data
}

func e2ePtr[T any](v T) *T { return &v }

// e2eReadCSV parses an export (which starts with a UTF-8 byte-order mark, for Excel).
func e2eReadCSV(t *testing.T, name string, data []byte) [][]string {
	t.Helper()
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatalf("%s is not CSV: %v\n%s", name, err, data)
	}
	if len(rows) == 0 {
		t.Fatalf("%s is empty", name)
	}
	return rows
}

// e2eColumn finds a header's index, failing when the export lacks it.
func e2eColumn(t *testing.T, name string, header []string, col string) int {
	t.Helper()
	for i, h := range header {
		if h == col {
			return i
		}
	}
	t.Fatalf("%s has no %q e2eColumn: %q", name, col, header)
	return -1
}

// tabTo presses Tab, as a keyboard user does, until the element with this id has focus.
func (b *e2eTab) tabTo(id string) {
	b.t.Helper()
	for range 80 {
		b.do("press Tab", chromedp.KeyEvent(kb.Tab))
		if e2eRun(b, "read the focus", chromedp.Evaluate[string](`document.activeElement ? document.activeElement.id : ""`)) == id {
			return
		}
	}
	b.t.Fatalf("80 presses of Tab never reached #%s on %s", id, b.location())
}
