// Package testbrowser drives headless Chromium through Rapport's pages in
// tests, as a person would: open a page, type, click, read what it says,
// and keep a screenshot.
package testbrowser

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// ChromiumPath is where Debian's chromium package puts the browser.
const ChromiumPath = "/usr/bin/chromium"

// Void is the result of a browser action that returns nothing.
type Void = chromedp.Void

// CSS selects the first element that matches a CSS selector.
func CSS(sel string) chromedp.CSS { return chromedp.CSS(sel) }

// Page is one Chromium tab on a site, failing its test with the step it
// was on when anything goes wrong.
type Page struct {
	T     testing.TB
	Ctx   context.Context
	Base  string // the site's address, such as http://127.0.0.1:41234
	Shots string // where screenshots go
}

// New starts headless Chromium at the given window size with a fresh
// profile and returns a tab on base. It skips the test when Chromium is not
// installed, and fails it instead under RAPPORT_REQUIRE_BROWSER=1.
// Screenshots go to RAPPORT_SCREENSHOTS, or to a directory the test removes.
func New(t testing.TB, width, height int, base string) *Page {
	t.Helper()
	return &Page{T: t, Ctx: start(t, width, height), Base: base, Shots: screenshotDir(t)}
}

func start(t testing.TB, width, height int) context.Context {
	t.Helper()
	if _, err := os.Stat(ChromiumPath); err != nil {
		msg := "browser tests need Chromium at " + ChromiumPath + " (apt-get install -y chromium); skipping"
		if os.Getenv("RAPPORT_REQUIRE_BROWSER") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(ChromiumPath),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("mute-audio", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(width, height),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	t.Cleanup(func() { cancelCtx(); cancelAlloc() })
	// The first run starts the browser, which lives as long as that run's
	// context: so start it without the deadline that bounds the test's steps.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	// A headless window is never narrower than 500 px: the page is given
	// the size asked for, so that a phone's 390 px are really 390.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(int64(width), int64(height))); err != nil {
		t.Fatalf("set the viewport to %d×%d: %v", width, height, err)
	}
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(cancelTimeout)
	return ctx
}

func screenshotDir(t testing.TB) string {
	dir := os.Getenv("RAPPORT_SCREENSHOTS")
	if dir == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Do runs actions, failing the test with step when one fails.
func (b *Page) Do(step string, actions ...chromedp.Action[Void]) {
	b.T.Helper()
	if err := chromedp.Do(b.Ctx, actions...); err != nil {
		b.T.Fatalf("%s: %v", step, err)
	}
}

// Get runs an action that reads something from the page. A page that
// swaps part of itself in (htmx) may replace the element between finding
// and reading it; the read is then tried again on the new one, a few times.
func Get[T any](b *Page, what string, a chromedp.Action[T]) T {
	b.T.Helper()
	for try := 1; ; try++ {
		v, err := chromedp.Run(b.Ctx, a)
		if err == nil {
			return v
		}
		if try < 5 && strings.Contains(err.Error(), "No node with given id found") {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		b.T.Fatalf("read %s: %v", what, err)
	}
}

// Text is the visible text of the first element matching sel.
func (b *Page) Text(sel string) string { b.T.Helper(); return Get(b, sel, chromedp.Text(CSS(sel))) }

// Value is the value of the first form field matching sel.
func (b *Page) Value(sel string) string {
	b.T.Helper()
	return Get(b, sel, chromedp.Value(CSS(sel)))
}

// Location is the address the tab shows.
func (b *Page) Location() string { b.T.Helper(); return Get(b, "location", chromedp.Location()) }

// Eval evaluates a JavaScript condition in the page.
func (b *Page) Eval(expr string) bool {
	b.T.Helper()
	return Get(b, expr, chromedp.Evaluate[bool](expr))
}

// Open goes to a path on the site and waits for an element to show.
func (b *Page) Open(path, waitFor string) {
	b.T.Helper()
	b.Do("open "+path, chromedp.Navigate(b.Base+path), chromedp.WaitVisible(CSS(waitFor)))
}

// WaitUntil waits for a JavaScript condition to hold.
func (b *Page) WaitUntil(step, expr string) {
	b.T.Helper()
	if _, err := chromedp.Run(b.Ctx, chromedp.Poll[Void](expr, chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		b.T.Fatalf("%s: %v", step, err)
	}
}

// Settle waits for a JavaScript condition to hold in whatever page the tab
// shows, asking from outside the page: unlike WaitUntil it outlives a
// navigation, so it can wait for the page a form submission leads to.
func (b *Page) Settle(step, expr string) {
	b.T.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if ok, err := chromedp.Run(b.Ctx, chromedp.Evaluate[bool](expr)); err == nil && ok {
			return
		}
	}
	b.T.Fatalf("%s: %s did not hold within 30 s", step, expr)
}

// Clipped lists the buttons of the page that are cut off: partly off the
// screen, or with their label wider than the button. Buttons not shown
// (inside a closed menu, say) do not count.
func (b *Page) Clipped() []string {
	b.T.Helper()
	return Get(b, "clipped buttons", chromedp.Evaluate[[]string](`[...document.querySelectorAll("button, .button, input[type=submit]")].filter(el => {
		const r = el.getBoundingClientRect();
		if (r.width === 0 && r.height === 0) return false;
		return r.left < -0.5 || r.right > window.innerWidth + 0.5 || el.scrollWidth > el.clientWidth + 1;
	}).map(el => el.textContent.trim().replace(/\s+/g, " "))`))
}

// SmallText lists the texts of the page's charts drawn smaller than px
// pixels tall, with their heights.
func (b *Page) SmallText(px float64) []string {
	b.T.Helper()
	return Get(b, "small chart text", chromedp.Evaluate[[]string](fmt.Sprintf(`[...document.querySelectorAll("svg text")].map(el => [el.textContent.trim(), el.getBoundingClientRect().height]).
		filter(([text, h]) => h > 0 && h < %g).map(([text, h]) => text + " (" + h.toFixed(1) + " px)")`, px)))
}

// CutOff lists what the page cuts off inside its own boxes: a table wider
// than the box that holds it (unless it is marked data-scrolls, a table
// meant to scroll in its card), and a chart's text running past the
// chart's edge.
func (b *Page) CutOff() []string {
	b.T.Helper()
	return Get(b, "cut-off content", chromedp.Evaluate[[]string](`(() => {
		const out = [];
		const name = el => el.id ? "#" + el.id : el.className ? "." + String(el.className.baseVal ?? el.className).trim().split(/\s+/)[0] : el.tagName.toLowerCase();
		for (const table of document.querySelectorAll("table")) {
			if (table.hasAttribute("data-scrolls") || table.getBoundingClientRect().width === 0) continue;
			for (let box = table.parentElement; box && box !== document.body; box = box.parentElement) {
				if (getComputedStyle(box).overflowX === "visible") continue;
				if (box.scrollWidth > box.clientWidth + 1) out.push("table " + name(table) + " in " + name(table.closest("section, .card") ?? box) + " is " + box.scrollWidth + " px wide in a box of " + box.clientWidth + " px");
				break;
			}
		}
		for (const text of document.querySelectorAll("svg text")) {
			const r = text.getBoundingClientRect(), svg = text.ownerSVGElement.getBoundingClientRect();
			if (r.width === 0 || getComputedStyle(text.ownerSVGElement).overflow === "visible") continue;
			if (r.left < svg.left - 1 || r.right > svg.right + 1) out.push("chart text " + JSON.stringify(text.textContent.trim()) + " runs past its chart " + name(text.ownerSVGElement));
		}
		return out;
	})()`))
}

// WiderThanScreen reports whether the page scrolls sideways.
func (b *Page) WiderThanScreen() bool {
	b.T.Helper()
	return b.Eval(`document.documentElement.scrollWidth > window.innerWidth`)
}

// Screenshot saves the whole page as name.png.
func (b *Page) Screenshot(name string) {
	b.T.Helper()
	// A page scrolled down would show a sticky top bar mid-page.
	Get(b, "scroll", chromedp.Evaluate[Void](`window.scrollTo(0, 0)`))
	buf := Get(b, "screenshot", chromedp.FullScreenshot(100))
	if err := os.WriteFile(filepath.Join(b.Shots, name+".png"), buf, 0o644); err != nil {
		b.T.Fatal(err)
	}
}
