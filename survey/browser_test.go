package survey_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/internal/testbrowser"
	"github.com/rapport-crm/rapport/sqlstore"
	"github.com/rapport-crm/rapport/survey"
)

// TestSurveyInBrowser answers a survey as a customer does: the link opened
// in Chromium, a score clicked, a comment typed, the form sent, the thanks
// read; then the answer is on the moment and a misery answer opened a case.
// It does so at phone and desktop width, each on a link of its own.
func TestSurveyInBrowser(t *testing.T) {
	for _, size := range []struct {
		name          string
		width, height int
	}{{"phone", 390, 844}, {"desktop", 1280, 900}} {
		t.Run(size.name, func(t *testing.T) {
			f := newFixture(t, survey.Config{})
			link := strings.TrimPrefix(f.link(0), f.srv.URL)
			b := testbrowser.New(t, size.width, size.height, f.srv.URL)
			b.Open(link, `input[name=rating]`)
			if got := b.Text("h1"); got != "How did we do?" {
				t.Errorf("the page's heading is %q", got)
			}
			if b.WiderThanScreen() {
				t.Errorf("the survey page is wider than the screen at %d px", size.width)
			}
			b.Screenshot("survey-01-form-" + size.name)

			b.Do("answer",
				chromedp.Click(testbrowser.CSS(`input[name=rating][value="2"]`)),
				chromedp.Click(testbrowser.CSS(`input[name=effort][value="6"]`)),
				chromedp.SendKeys(testbrowser.CSS("#comment"), "Took three calls"),
				chromedp.Click(testbrowser.CSS(`button[type=submit]`)),
				chromedp.WaitVisible(testbrowser.CSS(`main:not(:has(form))`)),
			)
			if got := b.Text("h1"); got != "Thank you" {
				t.Fatalf("after sending, the page says %q: %q; want Thank you", got, b.Text("main"))
			}
			b.Screenshot("survey-02-thanks-" + size.name)
			m := f.storedMoment()
			if m.Rating == nil || *m.Rating != 2 || m.Effort == nil || *m.Effort != 6 || m.Outcome != rapport.OutcomeMisery ||
				!strings.Contains(m.Notes, "Took three calls") {
				t.Errorf("the moment after the answer: rating %v, effort %v, outcome %s, notes %q; want 2, 6, misery, the comment",
					m.Rating, m.Effort, m.Outcome, m.Notes)
			}
			cases, err := sqlstore.NewRecoveryService(f.db).FindCases(context.Background(), rapport.CaseFilter{CustomerID: m.CustomerID})
			if err != nil || len(cases.Items) != 1 {
				t.Errorf("cases after a misery answer = %d, %v; want 1", len(cases.Items), err)
			}

			// Back to the link: it is answered, and has no form any more.
			b.Open(link, "h1")
			if got := b.Text("main"); !strings.Contains(got, "answered already") || b.Eval(`document.querySelector('form') !== null`) {
				t.Errorf("the link opened again reads %q; want answered already, without the form", got)
			}
		})
	}
}

// TestSurveyCrossSiteInBrowser has another site's page post an answer to a
// survey link from the same browser the customer used: the survey refuses it
// for where it came from, and the moment is unchanged.
func TestSurveyCrossSiteInBrowser(t *testing.T) {
	f := newFixture(t, survey.Config{})
	u := f.link(0)
	b := testbrowser.New(t, 1280, 900, f.srv.URL)
	// The customer opened the link, so the browser holds its nonce cookie.
	b.Open(strings.TrimPrefix(u, f.srv.URL), `input[name=rating]`)

	// The other site is "localhost" where the survey is 127.0.0.1: another
	// site to the browser, on this machine only.
	evil := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><form method="post" action="%s"><input name="rating" value="5"><input name="nonce" value="guess"><button id="go">Win a prize</button></form>`, u)
	}))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	evil.Listener = l
	evil.Start()
	t.Cleanup(evil.Close)
	evilURL := "http://localhost:" + fmt.Sprint(l.Addr().(*net.TCPAddr).Port) + "/"

	b.Do("post from another site",
		chromedp.Navigate(evilURL),
		chromedp.WaitVisible(testbrowser.CSS("#go")),
		chromedp.Click(testbrowser.CSS("#go")),
		chromedp.WaitVisible(testbrowser.CSS("main h1")),
	)
	if got := b.Text("main"); !strings.Contains(got, "did not come from the survey page") {
		t.Errorf("a post from another site reads %q; want it refused for where it came from", got)
	}
	if m := f.storedMoment(); m.Rating != nil {
		t.Errorf("a post from another site rated the moment %d", *m.Rating)
	}
}
