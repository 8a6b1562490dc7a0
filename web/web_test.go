package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rapport-crm/rapport"
)

// momentCount counts a customer's moments.
func (f *fixture) momentCount(t *testing.T, customerID string) int {
	t.Helper()
	page, err := f.services.Moments.FindMoments(context.Background(), rapport.MomentFilter{CustomerID: customerID, Limit: rapport.MaxPageSize})
	if err != nil {
		t.Fatal(err)
	}
	return len(page.Items)
}

func TestPagesRender(t *testing.T) {
	f := newFixture(t)
	c := f.signedIn(t, rapport.RoleAdmin)
	harriet := f.customers["Harriet Vane"].ID
	for _, tc := range []struct{ path, want string }{
		{"/", "Moments this week"},
		{"/customers", "Harriet Vane"},
		{"/customers?q=WIMSEY", "Peter Wimsey"},
		{"/customers/" + harriet, "Morning calls"},
		{"/customers/" + harriet + "/edit", "segment: premium"},
		{"/customers/" + harriet + "/timeline", "Earlier moments"},
		{"/customers/new", "New customer"},
		{"/moments/new", "Who was it with?"},
		{"/moments/new/customers?q=bunter", "Bunter &amp; Co"},
		{"/touchpoints", "Handling a complaint"},
		{"/touchpoints/new", "New touchpoint"},
		{"/touchpoints/greeting/edit", "Edit Greeting"},
	} {
		resp, body := c.get(tc.path)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, tc.want) {
			t.Errorf("GET %s = %d; want 200 with %q", tc.path, resp.StatusCode, tc.want)
		}
	}
	for _, path := range []string{"/customers/nobody", "/touchpoints/nothing/edit", "/no/such/page"} {
		if resp, _ := c.get(path); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s = %d; want 404", path, resp.StatusCode)
		}
	}
}

func TestSecurityHeaders(t *testing.T) {
	f := newFixture(t)
	anon, admin := f.newClient(t), f.signedIn(t, rapport.RoleAdmin)
	for _, tc := range []struct {
		c    *client
		path string
	}{{anon, "/signin"}, {admin, "/"}, {admin, "/customers"}, {anon, "/static/app.css"}, {admin, "/no/such/page"}} {
		resp, _ := tc.c.get(tc.path)
		h := resp.Header
		csp := h.Get("Content-Security-Policy")
		for _, want := range []string{"script-src 'self'", "frame-ancestors 'none'", "default-src 'self'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("GET %s: Content-Security-Policy %q lacks %q", tc.path, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
			t.Errorf("GET %s: Content-Security-Policy %q allows inline or eval", tc.path, csp)
		}
		if got := h.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("GET %s: X-Content-Type-Options = %q; want nosniff", tc.path, got)
		}
		if got := h.Get("Referrer-Policy"); got == "" {
			t.Errorf("GET %s: no Referrer-Policy", tc.path)
		}
	}
	// No page may carry inline script, or the policy would break it.
	for _, path := range []string{"/", "/customers/" + f.customers["Harriet Vane"].ID, "/moments/new"} {
		_, body := admin.get(path)
		if strings.Contains(body, "<script>") || strings.Contains(body, " onclick=") || strings.Contains(body, "style=") {
			t.Errorf("GET %s has inline script or style", path)
		}
	}
}

func TestSignedOutRedirects(t *testing.T) {
	f := newFixture(t)
	c := f.newClient(t)
	harriet := f.customers["Harriet Vane"].ID
	for _, tc := range []struct{ path, want string }{
		{"/", "/signin"},
		{"/customers?q=vane", "/signin?next=%2Fcustomers%3Fq%3Dvane"},
		{"/customers/" + harriet, "/signin?next=%2Fcustomers%2F" + harriet},
		{"/touchpoints", "/signin?next=%2Ftouchpoints"},
		{"/moments/new", "/signin?next=%2Fmoments%2Fnew"},
		{"/no/such/page", "/signin?next=%2Fno%2Fsuch%2Fpage"},
	} {
		resp, _ := c.get(tc.path)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != tc.want {
			t.Errorf("GET %s = %d to %q; want 303 to %q", tc.path, resp.StatusCode, resp.Header.Get("Location"), tc.want)
		}
	}
	before := f.momentCount(t, harriet)
	resp := c.post("/customers/"+harriet+"/moments", url.Values{"touchpoint": {"greeting"}, "channel": {"phone"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/signin" {
		t.Errorf("POST signed out = %d to %q; want 303 to /signin", resp.StatusCode, resp.Header.Get("Location"))
	}
	if n := f.momentCount(t, harriet); n != before {
		t.Errorf("a post signed out recorded a moment: %d moments, want %d", n, before)
	}
	// htmx would put the sign-in page inside the fragment; it is told to load it whole.
	req, _ := http.NewRequest(http.MethodGet, f.srv.URL+"/customers?q=x", nil)
	req.Header.Set("HX-Request", "true")
	r := c.do(req)
	r.Body.Close()
	if r.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(r.Header.Get("HX-Redirect"), "/signin") {
		t.Errorf("htmx GET signed out = %d, HX-Redirect %q; want 401 to the sign-in page", r.StatusCode, r.Header.Get("HX-Redirect"))
	}
}

func TestSignIn(t *testing.T) {
	f := newFixture(t)
	agent := f.users[rapport.RoleAgent]

	c := f.newClient(t)
	_, page := c.get("/signin")
	resp := c.post("/signin", url.Values{"email": {agent.Email}, "password": {"wrong password"}, "csrf_token": {csrfIn(page)}})
	body := readBody(t, resp)
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "The email or password is not right.") ||
		!strings.Contains(body, `value="`+agent.Email+`"`) || strings.Contains(body, "wrong password") {
		t.Errorf("wrong password: %d; want 401, the message, the email kept and the password not", resp.StatusCode)
	}
	resp = c.post("/signin", url.Values{"email": {"nobody@example.com"}, "password": {testPassword}, "csrf_token": {csrfIn(page)}})
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(readBody(t, resp), "The email or password is not right.") {
		t.Errorf("unknown email: %d; want 401 with the same message as a wrong password", resp.StatusCode)
	}
	resp = c.post("/signin", url.Values{"email": {""}, "password": {""}, "csrf_token": {csrfIn(page)}})
	body = readBody(t, resp)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `id="f-email-error"`) || !strings.Contains(body, `id="f-password-error"`) {
		t.Errorf("empty form: %d; want 422 with an error beside each field", resp.StatusCode)
	}

	// A sign-in cannot be used to send people to another site.
	resp = c.post("/signin", url.Values{"email": {agent.Email}, "password": {testPassword}, "csrf_token": {csrfIn(page)}, "next": {"//evil.example/"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Errorf("sign in with next=//evil.example = %d to %q; want 303 to /", resp.StatusCode, resp.Header.Get("Location"))
	}
	// A browser drops the tab and reads "//evil.example/phish".
	if resp, _ := c.get("/signin?next=%2F%09%2Fevil.example%2Fphish"); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Errorf("signed in, GET /signin?next=/<tab>/evil.example = %d to %q; want 303 to /", resp.StatusCode, resp.Header.Get("Location"))
	}
	var session *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "rapport_session" {
			session = ck
		}
	}
	if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || session.Path != "/" || session.Secure {
		t.Fatalf("session cookie = %+v; want HttpOnly, SameSite=Lax, Path=/, not Secure over plain HTTP", session)
	}
	if resp, _ := c.get("/customers"); resp.StatusCode != http.StatusOK {
		t.Errorf("GET /customers after signing in = %d; want 200", resp.StatusCode)
	}

	// Signing out ends the session on the server, not just in this browser.
	resp, _ = c.submit("/", "/signout", url.Values{})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/signin" {
		t.Errorf("sign out = %d to %q; want 303 to /signin", resp.StatusCode, resp.Header.Get("Location"))
	}
	stolen := f.newClient(t)
	u, _ := url.Parse(f.srv.URL)
	stolen.http.Jar.SetCookies(u, []*http.Cookie{{Name: "rapport_session", Value: session.Value}})
	if resp, _ := stolen.get("/customers"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("the old session after signing out: GET /customers = %d; want 303 to sign in", resp.StatusCode)
	}
}

func TestSecureCookieBehindTLS(t *testing.T) {
	f := newFixture(t)
	c := f.newClient(t)
	req, _ := http.NewRequest(http.MethodGet, f.srv.URL+"/signin", nil)
	req.Header.Set("X-Forwarded-Proto", "https")
	resp := c.do(req)
	resp.Body.Close()
	for _, ck := range resp.Cookies() {
		if !ck.Secure || !ck.HttpOnly {
			t.Errorf("cookie %s over TLS: Secure %v, HttpOnly %v; want both", ck.Name, ck.Secure, ck.HttpOnly)
		}
	}
}

func TestCSRF(t *testing.T) {
	f := newFixture(t)
	harriet := f.customers["Harriet Vane"].ID
	agent := f.signedIn(t, rapport.RoleAgent)
	other := f.signedIn(t, rapport.RoleAdmin)
	_, otherPage := other.get("/")
	moment := func(token string) url.Values {
		v := url.Values{"touchpoint": {"greeting"}, "channel": {"phone"}, "rating": {"5"}}
		if token != "" {
			v.Set("csrf_token", token)
		}
		return v
	}
	before := f.momentCount(t, harriet)
	for _, tc := range []struct {
		name string
		form url.Values
	}{
		{"no token", moment("")},
		{"a made-up token", moment("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")},
		{"another session's token", moment(csrfIn(otherPage))},
	} {
		resp := agent.post("/customers/"+harriet+"/moments", tc.form)
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("log a moment with %s = %d; want 403", tc.name, resp.StatusCode)
		}
	}
	for _, path := range []string{"/customers/" + harriet, "/customers", "/signout", "/moments"} {
		if resp := agent.post(path, url.Values{"name": {"Changed"}}); resp.StatusCode != http.StatusForbidden {
			t.Errorf("POST %s without a token = %d; want 403", path, resp.StatusCode)
		}
	}
	if n := f.momentCount(t, harriet); n != before {
		t.Errorf("posts without a valid token recorded moments: %d, want %d", n, before)
	}

	// A browser posting from another site is refused even with a token.
	_, page := agent.get("/customers/" + harriet)
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/customers/"+harriet+"/moments", strings.NewReader(moment(csrfIn(page)).Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp := agent.do(req)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site post = %d; want 403", resp.StatusCode)
	}

	// The sign-in form needs the token of its pre-session cookie.
	anon := f.newClient(t)
	resp = anon.post("/signin", url.Values{"email": {"alex@example.com"}, "password": {testPassword}})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("sign in without a token = %d; want 403", resp.StatusCode)
	}
	if n := f.momentCount(t, harriet); n != before {
		t.Errorf("refused posts recorded moments: %d, want %d", n, before)
	}
	// And the same form with the page's token works.
	resp, _ = agent.submit("/customers/"+harriet, "/customers/"+harriet+"/moments", moment(""))
	if resp.StatusCode != http.StatusSeeOther || f.momentCount(t, harriet) != before+1 {
		t.Errorf("log a moment with the page's token = %d; want 303 and one more moment", resp.StatusCode)
	}
}

func TestRoleLimits(t *testing.T) {
	f := newFixture(t)
	harriet := f.customers["Harriet Vane"].ID
	viewer := f.signedIn(t, rapport.RoleViewer)

	// A viewer reads everything but sees no control that changes anything.
	for _, path := range []string{"/", "/customers", "/customers/" + harriet, "/touchpoints"} {
		resp, body := viewer.get(path)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("viewer GET %s = %d; want 200", path, resp.StatusCode)
		}
		// A viewer keeps views of the list of their own, which change nothing of the firm's.
		body = strings.ReplaceAll(body, `method="post" action="/customers/views`, `method="post" action="(own view)`)
		for _, control := range []string{"Log a moment", "Log moment", "Edit profile", "New customer", "Add touchpoint", "/edit", `method="post" action="/customers`, `method="post" action="/moments`, `method="post" action="/touchpoints`} {
			if strings.Contains(body, control) {
				t.Errorf("viewer GET %s shows %q", path, control)
			}
		}
	}
	before := f.momentCount(t, harriet)
	for _, tc := range []struct {
		from, path string
		form       url.Values
	}{
		{"/customers/" + harriet, "/customers/" + harriet + "/moments", url.Values{"touchpoint": {"greeting"}, "channel": {"phone"}}},
		{"/", "/moments", url.Values{"customer_id": {harriet}, "touchpoint": {"greeting"}, "channel": {"phone"}}},
		{"/customers/" + harriet, "/customers/" + harriet, url.Values{"name": {"Changed"}}},
		{"/customers", "/customers", url.Values{"name": {"New"}}},
		{"/touchpoints", "/touchpoints", url.Values{"key": {"new_one"}, "name": {"New"}, "phase": {"sale"}, "target_score": {"4"}}},
		{"/touchpoints", "/touchpoints/greeting", url.Values{"name": {"Changed"}, "phase": {"sale"}, "target_score": {"4"}}},
	} {
		resp, body := viewer.submit(tc.from, tc.path, tc.form)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "Your role does not allow this") {
			t.Errorf("viewer POST %s = %d; want 403 with an explanation", tc.path, resp.StatusCode)
		}
	}
	for _, path := range []string{"/customers/new", "/customers/" + harriet + "/edit", "/moments/new", "/touchpoints/new", "/touchpoints/greeting/edit"} {
		if resp, _ := viewer.get(path); resp.StatusCode != http.StatusForbidden {
			t.Errorf("viewer GET %s = %d; want 403", path, resp.StatusCode)
		}
	}
	if n := f.momentCount(t, harriet); n != before {
		t.Errorf("viewer's posts recorded moments: %d, want %d", n, before)
	}
	if c, _ := f.services.Customers.FindCustomerByID(context.Background(), harriet); c.Name != "Harriet Vane" {
		t.Errorf("viewer's post renamed the customer to %q", c.Name)
	}

	// An agent looks after customers and moments but not the catalogue.
	agent := f.signedIn(t, rapport.RoleAgent)
	_, body := agent.get("/touchpoints")
	if strings.Contains(body, "Add touchpoint") || strings.Contains(body, "/edit") {
		t.Error("agent sees controls to change the catalogue")
	}
	if resp, _ := agent.submit("/touchpoints", "/touchpoints/greeting", url.Values{"name": {"Hi"}, "phase": {"sale"}, "target_score": {"4"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("agent edits a touchpoint = %d; want 403", resp.StatusCode)
	}
	_, body = agent.get("/customers/" + harriet)
	if !strings.Contains(body, "Log moment") || !strings.Contains(body, "Edit profile") {
		t.Error("agent's customer page lacks the log form or the edit button")
	}
}

func TestLogMoment(t *testing.T) {
	f := newFixture(t)
	harriet := f.customers["Harriet Vane"].ID
	c := f.signedIn(t, rapport.RoleAgent)
	before := f.momentCount(t, harriet)

	// Mistakes come back beside their fields with everything typed kept.
	resp, body := c.submit("/customers/"+harriet, "/customers/"+harriet+"/moments", url.Values{
		"channel": {"chat"}, "rating": {"9"}, "notes": {"Kept <notes>"}, "occurred_at": {"yesterday"}})
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("invalid moment = %d; want 422", resp.StatusCode)
	}
	for _, want := range []string{`id="f-touchpoint-error"`, "Choose the touchpoint.", `id="f-rating-error"`, "This must be from 1 to 5.",
		`id="f-occurred_at-error"`, "Kept &lt;notes&gt;", `value="chat" checked`} {
		if !strings.Contains(body, want) {
			t.Errorf("invalid moment: page lacks %q", want)
		}
	}
	if n := f.momentCount(t, harriet); n != before {
		t.Fatalf("an invalid moment was recorded")
	}

	// From the customer page, with htmx: the form comes back fresh and the
	// timeline is swapped in at once.
	_, page := c.get("/customers/" + harriet)
	form := url.Values{"csrf_token": {csrfIn(page)}, "touchpoint": {"delivery"}, "channel": {"email"}, "rating": {"5"},
		"notes": {"Delivered a day early."}, "occurred_at": {"2026-03-04T08:30"}, "tz_offset": {"-60"}}
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/customers/"+harriet+"/moments", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("HX-Request", "true")
	r := c.do(req)
	body = readBody(t, r)
	if r.StatusCode != http.StatusOK || !strings.Contains(body, `id="log-moment"`) || !strings.Contains(body, `hx-swap-oob="true"`) ||
		!strings.Contains(body, "Delivered a day early.") || !strings.Contains(body, "Moment logged.") {
		t.Errorf("htmx log = %d; want the form and the timeline out of band:\n%s", r.StatusCode, body)
	}
	var m *rapport.Moment
	all, _ := f.services.Moments.FindMoments(context.Background(), rapport.MomentFilter{CustomerID: harriet, Limit: rapport.MaxPageSize})
	for _, x := range all.Items {
		if x.Notes == "Delivered a day early." {
			m = x
		}
	}
	if m == nil {
		t.Fatal("the moment logged with htmx was not recorded")
	}
	if m.Outcome != rapport.OutcomeMagic || m.StaffID != f.users[rapport.RoleAgent].ID ||
		m.OccurredAt.Format("15:04") != "07:30" {
		t.Errorf("recorded %+v; want a magic delivery by the agent at 07:30 UTC (08:30 at UTC+1)", m)
	}

	// The quick entry.
	peter := f.customers["Peter Wimsey"].ID
	resp, _ = c.submit("/moments/new", "/moments", url.Values{"customer_id": {peter}, "touchpoint": {"query"}, "channel": {"phone"}, "outcome": {"misery"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/customers/"+peter+"#timeline" {
		t.Errorf("quick entry = %d to %q; want 303 to the customer's timeline", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, body = c.submit("/moments/new", "/moments", url.Values{"touchpoint": {"query"}, "channel": {"phone"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "Choose the customer.") {
		t.Errorf("quick entry without a customer = %d; want 422 saying to choose one", resp.StatusCode)
	}
}

func TestEditCustomer(t *testing.T) {
	f := newFixture(t)
	harriet := f.customers["Harriet Vane"]
	c := f.signedIn(t, rapport.RoleAgent)
	path := "/customers/" + harriet.ID

	resp, body := c.submit(path+"/edit", path, url.Values{"name": {""}, "kind": {"person"}, "email": {"not an email"}, "likes": {"Tea"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `id="f-name-error"`) || !strings.Contains(body, `id="f-email-error"`) ||
		!strings.Contains(body, `value="not an email"`) {
		t.Errorf("invalid profile = %d; want 422 with errors by name and email and the typed email kept", resp.StatusCode)
	}

	resp, _ = c.submit(path+"/edit", path, url.Values{"name": {"Harriet D. Vane"}, "kind": {"person"}, "email": {"hv@example.com"},
		"likes": {"Tea\n\nCrosswords "}, "dislikes": {""}, "attributes": {"segment: gold\nzip: \"12345\"\nvip: true"}, "owner_id": {""}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save profile = %d; want 303", resp.StatusCode)
	}
	got, _ := f.services.Customers.FindCustomerByID(context.Background(), harriet.ID)
	if got.Name != "Harriet D. Vane" || got.Email != "hv@example.com" || strings.Join(got.Preferences.Likes, "|") != "Tea|Crosswords" ||
		len(got.Preferences.Dislikes) != 0 || got.OwnerID != "" ||
		got.Attributes["segment"] != "gold" || got.Attributes["zip"] != "12345" || got.Attributes["vip"] != true || got.Attributes["policies"] != nil {
		t.Errorf("saved %+v", got)
	}
	if _, body := c.get(path + "/edit"); !strings.Contains(body, "zip: &#34;12345&#34;") {
		t.Errorf("the editor does not show the text attribute quoted so it stays text")
	}

	resp, _ = c.submit("/customers/new", "/customers", url.Values{"name": {"Lord Peter"}, "kind": {"person"}, "stage": {"awareness"}})
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/customers/") {
		t.Errorf("new customer = %d to %q; want 303 to their page", resp.StatusCode, resp.Header.Get("Location"))
	}
}

func TestEditTouchpoints(t *testing.T) {
	f := newFixture(t)
	c := f.signedIn(t, rapport.RoleManager)
	resp, body := c.submit("/touchpoints/new", "/touchpoints", url.Values{"key": {"Bad Key"}, "name": {""}, "phase": {"sale"}, "target_score": {"7"}})
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("invalid touchpoint = %d; want 422", resp.StatusCode)
	}
	for _, want := range []string{`id="f-key-error"`, `id="f-name-error"`, `id="f-target_score-error"`} {
		if !strings.Contains(body, want) {
			t.Errorf("invalid touchpoint: page lacks %s", want)
		}
	}
	resp, _ = c.submit("/touchpoints/new", "/touchpoints", url.Values{"key": {"renewal_call"}, "name": {"Renewal call"}, "phase": {"sale"},
		"channels": {"phone", "email"}, "target_score": {"4.3"}, "priority": {"2"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("add touchpoint = %d; want 303", resp.StatusCode)
	}
	resp, body = c.submit("/touchpoints/new", "/touchpoints", url.Values{"key": {"renewal_call"}, "name": {"Again"}, "phase": {"sale"}, "target_score": {"4"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "Another touchpoint has this key already.") {
		t.Errorf("duplicate key = %d; want 422 beside the key", resp.StatusCode)
	}
	resp, _ = c.submit("/touchpoints/renewal_call/edit", "/touchpoints/renewal_call", url.Values{"name": {"Renewal call"}, "phase": {"post_sales"},
		"channels": {"phone"}, "target_score": {"4.5"}, "priority": {""}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("edit touchpoint = %d; want 303", resp.StatusCode)
	}
	tp, _ := f.services.Touchpoints.FindTouchpointByKey(context.Background(), "renewal_call")
	if tp.Phase != rapport.PhasePostSales || tp.TargetScore != 4.5 || tp.Priority != nil || len(tp.Channels) != 1 {
		t.Errorf("edited touchpoint = %+v", tp)
	}
}

func readBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	var b strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	resp.Body.Close()
	return b.String()
}

// TestNewFirm checks the pages of a firm with no customers and no moments,
// which is what a new installation shows first.
func TestNewFirm(t *testing.T) {
	f := newFixture(t)
	for _, c := range f.customers {
		if err := f.services.Customers.DeleteCustomer(context.Background(), c.ID); err != nil {
			t.Fatal(err)
		}
	}
	c := f.signedIn(t, rapport.RoleAdmin)
	for _, tc := range []struct{ path, want string }{
		{"/", "No misery moments"},
		{"/customers", "No customers yet."},
		{"/customers?q=zz", "No customer matches"},
		{"/moments/new", "No customers yet."},
		{"/moments/new/customers?q=zz", "No customer matches"},
	} {
		resp, body := c.get(tc.path)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, tc.want) {
			t.Errorf("GET %s = %d; want 200 with %q", tc.path, resp.StatusCode, tc.want)
		}
	}
}

// TestSignInThrottled guesses one account's password: after five wrong
// tries the sign-in page asks to wait, the right password too is refused
// while it waits, and it works once the wait is over. Another account from
// elsewhere is not held.
func TestSignInThrottled(t *testing.T) {
	f := newFixture(t)
	agent, manager := f.users[rapport.RoleAgent], f.users[rapport.RoleManager]
	c := f.newClient(t)
	_, page := c.get("/signin")
	try := func(email, password string) (*http.Response, string) {
		t.Helper()
		resp := c.post("/signin", url.Values{"email": {email}, "password": {password}, "csrf_token": {csrfIn(page)}})
		return resp, readBody(t, resp)
	}
	for i := 1; i <= 4; i++ {
		if resp, _ := try(agent.Email, "guess"); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("wrong password %d = %d; want 401", i, resp.StatusCode)
		}
	}
	resp, body := try(strings.ToUpper(agent.Email), "guess")
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "60" ||
		!strings.Contains(body, "Too many attempts to sign in. Please wait 1 minute and try again.") {
		t.Errorf("fifth wrong password = %d, Retry-After %q; want 429 after 60 s with the message", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if resp, _ := try(agent.Email, testPassword); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("the right password while held = %d; want 429", resp.StatusCode)
	}
	if resp, _ := try(manager.Email, testPassword); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("another account from the same address = %d; want 303 (signed in)", resp.StatusCode)
	}
	f.clock.Add(time.Minute)
	c = f.newClient(t)
	_, page = c.get("/signin")
	if resp, _ := try(agent.Email, testPassword); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("the right password after the wait = %d; want 303 (signed in)", resp.StatusCode)
	}
}

// TestBadTextRefused posts a profile holding a NUL character, and asks for
// a page with broken UTF-8 in its address: each is a readable 400 that
// changes nothing (PostgreSQL would refuse such text with an error).
func TestBadTextRefused(t *testing.T) {
	f := newFixture(t)
	harriet := f.customers["Harriet Vane"]
	c := f.signedIn(t, rapport.RoleAgent)
	path := "/customers/" + harriet.ID
	resp, body := c.submit(path+"/edit", path, url.Values{"name": {"Harriet\x00Vane"}, "kind": {"person"}, "email": {"hv@example.com"}})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "NUL character") {
		t.Errorf("a name with a NUL = %d; want 400 saying why", resp.StatusCode)
	}
	if got, _ := f.services.Customers.FindCustomerByID(context.Background(), harriet.ID); got.Name != "Harriet Vane" {
		t.Errorf("after the refusal the name is %q; want it unchanged", got.Name)
	}
	if resp, _ := c.get("/customers?q=%ff%fe"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a search for broken UTF-8 = %d; want 400", resp.StatusCode)
	}
}
