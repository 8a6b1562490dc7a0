package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/web"
)

// recoveryFixture is what seedRecovery adds to the fixture.
type recoveryFixture struct {
	dylan     *rapport.User // an agent who reports to the manager and breaks promises
	mary      *rapport.Customer
	escalated *rapport.RecoveryCase // escalated to the manager
	overdue   *rapport.RecoveryCase // Alex's, escalated to every manager
	resolved  *rapport.RecoveryCase // resolved and recovered
	dueToday  *rapport.Promise      // Alex's, to Harriet
	surveyed  *rapport.Moment       // Harriet's moment she rated through a survey link
}

// actingAs returns a context acting as the user, as a signed-in request would.
func actingAs(u *rapport.User) context.Context {
	return rapport.NewContextWithPrincipal(context.Background(), &rapport.Principal{UserID: u.ID, Name: u.Name, Role: u.Role})
}

// seedRecovery gives the firm the history the recovery pages work on:
//   - Dylan Foster, an agent on the front desk reporting to Mo Manager, who
//     broke eight promises; Alex Agent kept five and broke one;
//   - open promises of Alex's, two of them due today;
//   - a case of Dylan's four days overdue, escalated to Mo; one of Alex's
//     three days overdue, escalated to every manager; one resolved and
//     recovered by the customer's next moment;
//   - a survey answer from Harriet Vane.
func (f *fixture) seedRecovery(t *testing.T) *recoveryFixture {
	t.Helper()
	ctx := context.Background()
	alex, mo := f.users[rapport.RoleAgent], f.users[rapport.RoleManager]
	rf := &recoveryFixture{dylan: &rapport.User{Email: "dylan@example.com", Name: "Dylan Foster", Role: rapport.RoleAgent,
		Team: "Front desk", ManagerID: mo.ID}}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(f.services.Users.CreateUser(ctx, rf.dylan))
	must(f.services.Passwords.SetPassword(ctx, rf.dylan.ID, testPassword))
	rf.mary = &rapport.Customer{Name: "Mary Quant", Email: "mary@quant.example", Stage: rapport.StageExpansion, OwnerID: rf.dylan.ID,
		Preferences: rapport.Preferences{Likes: []string{"Email, not calls"}}}
	must(f.services.Customers.CreateCustomer(ctx, rf.mary))
	harriet, peter, bunter := f.customers["Harriet Vane"], f.customers["Peter Wimsey"], f.customers["Bunter & Co"]

	// Three weeks ago: promises made, due within days.
	f.clock.Add(-21 * 24 * time.Hour)
	var alexs []*rapport.Promise
	for i, text := range []string{"Send the renewal quote", "Call back about the claim", "Post the new card", "Confirm the refund in writing",
		"Book the engineer's visit", "Email the policy wording"} {
		p := &rapport.Promise{CustomerID: []string{harriet.ID, peter.ID, bunter.ID}[i%3], Text: text, DueAt: f.clock.Now().Add(time.Duration(24+12*i) * time.Hour)}
		must(f.services.Promises.CreatePromise(actingAs(alex), p))
		alexs = append(alexs, p)
	}
	for i := range 8 {
		p := &rapport.Promise{CustomerID: []string{rf.mary.ID, peter.ID}[i%2], Text: []string{"Ring back within the hour", "Send the forms today",
			"Waive the late fee", "Chase the supplier"}[i%4], DueAt: f.clock.Now().Add(time.Duration(30+10*i) * time.Hour)}
		must(f.services.Promises.CreatePromise(actingAs(rf.dylan), p))
	}
	f.clock.Add(21 * 24 * time.Hour)
	for _, p := range alexs[:5] {
		_, err := f.services.Promises.SetPromiseStatus(actingAs(alex), p.ID, rapport.PromiseKept)
		must(err)
	}
	_, err := f.services.Promises.BreakOverdue(ctx) // Alex's last and all of Dylan's
	must(err)

	// Open promises: two of Alex's due today, one next week, one of Dylan's.
	rf.dueToday = &rapport.Promise{CustomerID: harriet.ID, Text: "Call Harriet back with the claim reference", DueAt: testNow.Add(4 * time.Hour)}
	must(f.services.Promises.CreatePromise(actingAs(alex), rf.dueToday))
	for _, p := range []*rapport.Promise{
		{CustomerID: peter.ID, Text: "Send the signed contract back", DueAt: testNow.Add(7 * time.Hour)},
		{CustomerID: bunter.ID, Text: "Visit the office to check the install", DueAt: testNow.Add(6 * 24 * time.Hour)},
	} {
		must(f.services.Promises.CreatePromise(actingAs(alex), p))
	}
	must(f.services.Promises.CreatePromise(actingAs(rf.dylan), &rapport.Promise{CustomerID: rf.mary.ID, Text: "Send Mary the revised invoice", DueAt: testNow.Add(30 * time.Hour)}))

	// Cases gone overdue: misery logged days ago, past the 48 hours of the service level.
	one := 1
	f.clock.Add(-4 * 24 * time.Hour)
	late := []*rapport.Moment{
		{CustomerID: rf.mary.ID, Touchpoint: "delivery", Channel: rapport.ChannelPhone, OccurredAt: f.clock.Now(), StaffID: rf.dylan.ID,
			Rating: &one, Notes: "The sofa came with a torn cover; second time this year."},
	}
	_, err = f.services.Moments.RecordMoments(ctx, late)
	must(err)
	f.clock.Add(24 * time.Hour)
	late2 := &rapport.Moment{CustomerID: bunter.ID, Touchpoint: "service", Channel: rapport.ChannelInPerson, OccurredAt: f.clock.Now(),
		StaffID: alex.ID, Rating: &one, Notes: "The engineer did not turn up, and nobody rang to say."}
	_, err = f.services.Moments.RecordMoment(ctx, late2)
	must(err)
	f.clock.Add(3 * 24 * time.Hour)
	_, err = f.services.Recovery.Escalate(ctx)
	must(err)
	rf.escalated = f.caseOf(t, late[0].ID)
	rf.overdue = f.caseOf(t, late2.ID)

	// A case resolved and followed by a happy moment: recovered. Its misery
	// is newer than every moment the fixture made, which would otherwise
	// count as the next moment.
	f.clock.Add(-30 * time.Minute)
	charged := &rapport.Moment{CustomerID: peter.ID, Touchpoint: "complaint", Channel: rapport.ChannelEmail, OccurredAt: f.clock.Now(),
		StaffID: alex.ID, Rating: &one, Notes: "Charged twice for the same order."}
	_, err = f.services.Moments.RecordMoment(ctx, charged)
	must(err)
	resolution := "Apologised, refunded the fee and sent flowers."
	resolved := rapport.CaseResolved
	note := "Rang Peter: he wants the fee back."
	f.clock.Add(5 * time.Minute)
	id := f.caseOf(t, charged.ID).ID
	_, err = f.services.Recovery.UpdateCase(actingAs(alex), id, rapport.CaseUpdate{Note: &note})
	must(err)
	f.clock.Add(5 * time.Minute)
	_, err = f.services.Recovery.UpdateCase(actingAs(alex), id, rapport.CaseUpdate{Status: &resolved, Resolution: &resolution})
	must(err)
	f.clock.Add(10 * time.Minute)
	five := 5
	_, err = f.services.Moments.RecordMoment(ctx, &rapport.Moment{CustomerID: peter.ID, Touchpoint: "query", Channel: rapport.ChannelPhone,
		OccurredAt: f.clock.Now(), StaffID: alex.ID, Rating: &five, Notes: "Thanked us for sorting the fee so quickly."})
	must(err)
	f.clock.Add(10 * time.Minute)
	rf.resolved = f.caseOf(t, charged.ID)
	if rf.resolved.Recovery != rapport.RecoveryRecovered {
		t.Fatalf("the resolved case is %s; want recovered", rf.resolved.Recovery)
	}

	// Harriet answers a survey about her latest moment.
	ms, err := f.services.Moments.FindMoments(ctx, rapport.MomentFilter{CustomerID: harriet.ID, Limit: 1})
	must(err)
	rf.surveyed = ms.Items[0]
	link, err := f.services.Surveys.CreateSurveyLink(ctx, rf.surveyed.ID, time.Hour)
	must(err)
	nps := 9
	must(f.services.Surveys.AnswerSurvey(ctx, link.Token, rapport.SurveyAnswer{Rating: 4, NPS: &nps, Comment: "Friendly, but I had to call twice."}))
	return rf
}

// caseOf returns the case of a misery moment.
func (f *fixture) caseOf(t *testing.T, momentID string) *rapport.RecoveryCase {
	t.Helper()
	cases, err := f.services.Recovery.FindCases(context.Background(), rapport.CaseFilter{Limit: rapport.MaxPageSize})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases.Items {
		if c.MomentID == momentID {
			c, err := f.services.Recovery.FindCaseByID(context.Background(), c.ID)
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
	}
	t.Fatalf("no case for moment %s", momentID)
	return nil
}

// promiseByText returns the promise with the text.
func (f *fixture) promiseByText(t *testing.T, text string) *rapport.Promise {
	t.Helper()
	ps, err := f.services.Promises.FindPromises(context.Background(), rapport.PromiseFilter{Limit: rapport.MaxPageSize})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps.Items {
		if p.Text == text {
			return p
		}
	}
	return nil
}

// wantInPage reports each string the body lacks.
func wantInPage(t *testing.T, what, body string, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(body, want) {
			t.Errorf("%s: page lacks %q", what, want)
		}
	}
}

func TestRecoveryPages(t *testing.T) {
	f := newFixture(t)
	rf := f.seedRecovery(t)
	harriet := f.customers["Harriet Vane"].ID
	agent := f.signedIn(t, rapport.RoleAgent)
	for _, tc := range []struct {
		path string
		want []string
	}{
		{"/cases", []string{`id="tab-mine" aria-current="page">Mine`, "Bunter &amp; Co", "The engineer did not turn up", "Overdue", "Escalated",
			"escalated to every manager", `href="/cases/` + rf.overdue.ID + `"`, `href="/cases" aria-current="page">Recovery</a>`}},
		{"/cases?show=team", []string{"Open cases of the Front desk team", "Mary Quant", "The sofa came with a torn cover", "With Dylan Foster",
			"escalated to Mo Manager"}},
		{"/cases?show=overdue", []string{"Mary Quant", "Bunter &amp; Co", "Open cases past their due time"}},
		{"/cases?show=open", []string{"Mary Quant", "Every open case"}},
		{"/cases?show=resolved", []string{"Peter Wimsey", "Recovered"}},
		{"/cases/" + rf.resolved.ID, []string{"Resolved by Alex Agent", "Apologised, refunded the fee and sent flowers.", "Recovered: the customer's next moment was not misery.",
			"Rang Peter: he wants the fee back.", `id="reopen-form"`}},
		{"/cases/" + rf.escalated.ID, []string{"The sofa came with a torn cover", "to Mo Manager", `id="take-case"`, `id="assign-form"`, `id="resolve-form"`,
			`id="note-form"`, "Overdue since"}},
		{"/promises", []string{"Your open promises", "Call Harriet back with the claim reference", "Due today", "Send the signed contract back",
			`action="/promises/` + rf.dueToday.ID + `/status"`, `name="next" value="/promises"`, `href="/promises" aria-current="page">Promises</a>`}},
		{"/promises?show=all&staff=" + rf.dylan.ID + "&status=broken", []string{"Ring back within the hour", "Broken", `<option value="broken" selected>`}},
		{"/promises?show=all&customer=" + harriet, []string{"Promises to <a href=\"/customers/" + harriet + "\">Harriet Vane</a> only", "Send the renewal quote"}},
		{"/reports/recovery", []string{`id="kpi-opened"`, "Recovery rate", "Dissolved within 90 days", "Bought again within 90 days", `class="hbar"`, "In plain words"}},
		{"/reports/promises", []string{"Dylan Foster breaks promises most: 8 of 8 settled promises broken", `id="staff-table"`, `class="hbar-fill hbar-bad"`,
			"Front desk", "Say/do ratio"}},
		{"/customers/" + harriet, []string{`href="/customers/` + harriet + `/brief"`, "Handover brief", `id="promise-form"`, "Make a promise",
			"Survey link", "Call Harriet back with the claim reference", "Open promises and cases", "Survey answer", "Friendly, but I had to call twice.",
			`class="entry entry-promise"`}},
		{"/customers/" + f.customers["Bunter & Co"].ID, []string{`class="entry entry-case"`, "Promise broken: Email the policy wording",
			`href="/cases/` + rf.overdue.ID + `"`, "Overdue"}},
		{"/customers/" + harriet + "/brief", []string{"Handover brief", "Open promises", "Call Harriet back with the claim reference", "Latest misery",
			"In their own words", "Friendly, but I had to call twice.", "Morning calls", "Hold music", `class="chart months"`, "Alex Agent"}},
		{"/", []string{`id="my-day"`, "My day", `id="my-promises-due">2<`, "promises due today"}},
	} {
		resp, body := agent.get(tc.path)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s = %d; want 200", tc.path, resp.StatusCode)
			continue
		}
		wantInPage(t, "GET "+tc.path, body, tc.want...)
		if strings.Contains(body, "<script>") || strings.Contains(body, "style=") || strings.Contains(body, " onclick=") {
			t.Errorf("GET %s has inline script or style", tc.path)
		}
	}
	// The manager sees the case escalated to them on their own tab.
	mgr := f.signedIn(t, rapport.RoleManager)
	_, body := mgr.get("/cases")
	wantInPage(t, "manager's /cases", body, `id="escalated-to-me"`, "Escalated to you", "Mary Quant")

	for _, path := range []string{"/cases/nothing", "/customers/nobody/brief"} {
		if resp, _ := agent.get(path); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s = %d; want 404", path, resp.StatusCode)
		}
	}
	// A filter with a mistake says so and shows the default.
	resp, body := agent.get("/reports/recovery?from=2026-13-01")
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `id="f-from-error"`) {
		t.Errorf("report with a bad date = %d; want 422 with the error beside the field", resp.StatusCode)
	}
}

func TestCaseActions(t *testing.T) {
	f := newFixture(t)
	rf := f.seedRecovery(t)
	id := rf.overdue.ID
	path := "/cases/" + id
	alex, mo := f.users[rapport.RoleAgent], f.users[rapport.RoleManager]
	manager := f.signedIn(t, rapport.RoleManager)
	agent := f.signedIn(t, rapport.RoleAgent)
	get := func() *rapport.RecoveryCase {
		c, err := f.services.Recovery.FindCaseByID(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}

	// Take it, give it to someone, put it back in the queue.
	resp, _ := manager.submit(path, path+"/assign", url.Values{"assignee_id": {"me"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != path+"#history" || get().AssigneeID != mo.ID {
		t.Errorf("take the case = %d to %q, assignee %q; want 303 to the history and the manager", resp.StatusCode, resp.Header.Get("Location"), get().AssigneeID)
	}
	resp, _ = manager.submit(path, path+"/assign", url.Values{"assignee_id": {alex.ID}})
	if resp.StatusCode != http.StatusSeeOther || get().AssigneeID != alex.ID {
		t.Errorf("assign to Alex = %d, assignee %q", resp.StatusCode, get().AssigneeID)
	}
	resp, body := manager.submit(path, path+"/assign", url.Values{"assignee_id": {"no-such-user"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `id="f-assignee_id-error"`) || get().AssigneeID != alex.ID {
		t.Errorf("assign to nobody = %d; want 422 with the error beside the field and nothing changed", resp.StatusCode)
	}
	resp, _ = manager.submit(path, path+"/assign", url.Values{"assignee_id": {""}})
	if c := get(); resp.StatusCode != http.StatusSeeOther || c.AssigneeID != "" || c.Queue == "" {
		t.Errorf("back to the queue = %d, assignee %q, queue %q", resp.StatusCode, c.AssigneeID, c.Queue)
	}

	// Notes: empty, too long (kept as typed), then right.
	resp, body = agent.submit(path, path+"/notes", url.Values{"note": {"  "}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `id="f-note-error"`) {
		t.Errorf("empty note = %d; want 422 with the error beside the field", resp.StatusCode)
	}
	long := strings.Repeat("Still waiting. ", 300)
	resp, body = agent.submit(path, path+"/notes", url.Values{"note": {long}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `id="f-note-error"`) || !strings.Contains(body, strings.TrimSpace(long)) {
		t.Errorf("long note = %d; want 422 with the error beside the field and the note kept", resp.StatusCode)
	}
	resp, _ = agent.submit(path, path+"/notes", url.Values{"note": {"Rang Bunter: engineer booked for Friday."}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("add a note = %d; want 303", resp.StatusCode)
	}
	_, body = agent.get(path)
	wantInPage(t, "case after a note", body, "Rang Bunter: engineer booked for Friday.", "Note added.", "Assigned</strong> to Mo Manager")

	// Resolve: the reason is required; then done; then reopened.
	resp, body = agent.submit(path, path+"/resolve", url.Values{"resolution": {""}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `id="f-resolution-error"`) || get().Status != rapport.CaseOpen {
		t.Errorf("resolve without saying what was done = %d; want 422 beside the field", resp.StatusCode)
	}
	resp, _ = agent.submit(path, path+"/resolve", url.Values{"resolution": {"Engineer came Friday; waived the call-out fee."}})
	if c := get(); resp.StatusCode != http.StatusSeeOther || c.Status != rapport.CaseResolved || c.Resolution != "Engineer came Friday; waived the call-out fee." ||
		c.ResolvedBy != alex.ID {
		t.Errorf("resolve = %d, case %+v", resp.StatusCode, c)
	}
	_, body = agent.get(path)
	wantInPage(t, "resolved case", body, "Resolved by Alex Agent", "Whether it recovered shows once", `id="reopen-form"`)
	if strings.Contains(body, `id="resolve-form"`) {
		t.Error("a resolved case still offers to resolve it")
	}
	resp, _ = agent.submit(path, path+"/reopen", url.Values{"reason": {"The fee was charged after all."}})
	if c := get(); resp.StatusCode != http.StatusSeeOther || c.Status != rapport.CaseOpen {
		t.Errorf("reopen = %d, status %s", resp.StatusCode, c.Status)
	}
	_, body = agent.get(path)
	wantInPage(t, "reopened case", body, "Reopened", "The fee was charged after all.")
	// Reopening an open case (someone was quicker) only says so.
	resp, _ = agent.submit(path, path+"/reopen", url.Values{})
	_, body = agent.get(path)
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(body, "The case is open already.") {
		t.Errorf("reopen an open case = %d; want 303 back to it, saying it is open", resp.StatusCode)
	}
}

func TestPromiseActions(t *testing.T) {
	f := newFixture(t)
	f.seedRecovery(t)
	harriet := f.customers["Harriet Vane"].ID
	path := "/customers/" + harriet
	alex := f.users[rapport.RoleAgent]
	agent := f.signedIn(t, rapport.RoleAgent)
	_, page := agent.get(path)
	wantInPage(t, "the make-a-promise form", page, `value="`+alex.ID+`" selected>Alex Agent (me)`, `name="due_time" type="time" value="17:00"`,
		`id="f-due_date" name="due_date" type="date" value="2026-03-05"`)

	// Mistakes come back beside their fields with everything typed kept.
	resp, body := agent.submit(path, path+"/promises", url.Values{"text": {""}, "due_date": {"2026-03-01"}, "due_time": {"09:30"},
		"staff_id": {f.users[rapport.RoleManager].ID}})
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("invalid promise = %d; want 422", resp.StatusCode)
	}
	wantInPage(t, "invalid promise", body, `id="f-text-error"`, "Say what was promised.", `id="f-due_date-error"`, "This must be in the future.",
		`value="2026-03-01"`, `value="09:30"`, `value="`+f.users[rapport.RoleManager].ID+`" selected`)
	resp, body = agent.submit(path, path+"/promises", url.Values{"text": {"Ring back"}, "due_date": {"next week"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "Enter a date such as 2026-03-01.") || !strings.Contains(body, ">Ring back</textarea>") {
		t.Errorf("promise with a bad date = %d; want 422 beside the date and the text kept", resp.StatusCode)
	}

	// A promise made in a moment, due tomorrow at 10:00 in UTC+1.
	ms, _ := f.services.Moments.FindMoments(context.Background(), rapport.MomentFilter{CustomerID: harriet, Limit: 1})
	resp, _ = agent.submit(path, path+"/promises", url.Values{"text": {"Send Harriet the claim form"}, "due_date": {"2026-03-05"}, "due_time": {"10:00"},
		"tz_offset": {"-60"}, "staff_id": {alex.ID}, "moment_id": {ms.Items[0].ID}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != path+"#timeline" {
		t.Fatalf("make a promise = %d to %q; want 303 to the timeline", resp.StatusCode, resp.Header.Get("Location"))
	}
	p := f.promiseByText(t, "Send Harriet the claim form")
	if p == nil || p.StaffID != alex.ID || p.MomentID != ms.Items[0].ID || !p.DueAt.Equal(time.Date(2026, 3, 5, 9, 0, 0, 0, time.UTC)) {
		t.Fatalf("made %+v; want Alex's, in the moment, due 09:00 UTC", p)
	}
	_, body = agent.get(path)
	wantInPage(t, "customer after the promise", body, "Promise made, due 5 Mar 2026, 09:00 UTC.", `id="promise-`+p.ID+`"`, "Send Harriet the claim form")
	_, body = agent.get("/promises")
	wantInPage(t, "promises due", body, "Send Harriet the claim form")
	// "Make a promise" on a moment chooses that moment in the form.
	_, body = agent.get(path + "?moment=" + ms.Items[0].ID)
	wantInPage(t, "the form from a moment", body, `<option value="`+ms.Items[0].ID+`" selected>`)

	// Kept from the promises page; broken from the timeline.
	resp, _ = agent.submit("/promises", "/promises/"+p.ID+"/status", url.Values{"status": {"kept"}, "next": {"/promises"}})
	if got, _ := f.services.Promises.FindPromiseByID(context.Background(), p.ID); resp.StatusCode != http.StatusSeeOther ||
		resp.Header.Get("Location") != "/promises" || got.Status != rapport.PromiseKept {
		t.Errorf("mark kept = %d to %q, status %s", resp.StatusCode, resp.Header.Get("Location"), got.Status)
	}
	resp, _ = agent.submit("/promises", "/promises/"+p.ID+"/status", url.Values{"status": {"broken"}, "next": {"/promises"}})
	if got, _ := f.services.Promises.FindPromiseByID(context.Background(), p.ID); resp.StatusCode != http.StatusSeeOther || got.Status != rapport.PromiseKept {
		t.Errorf("break a kept promise = %d, status %s; want 303 back and still kept", resp.StatusCode, got.Status)
	}
	_, body = agent.get("/promises")
	wantInPage(t, "promises after a second settling", body, "The promise is kept already.")

	// Broken is asked again before it is done: nothing changes until it is confirmed.
	due := f.promiseByText(t, "Call Harriet back with the claim reference")
	before := f.momentCount(t, harriet)
	resp, body = agent.submit(path, "/promises/"+due.ID+"/status", url.Values{"status": {"broken"}, "next": {path + "#timeline"}})
	if got, _ := f.services.Promises.FindPromiseByID(context.Background(), due.ID); resp.StatusCode != http.StatusOK || got.Status != rapport.PromiseOpen {
		t.Errorf("Broken without confirming = %d, status %s; want 200 asking, still open", resp.StatusCode, got.Status)
	}
	wantInPage(t, "the confirmation", body, "Mark the promise broken?", "Call Harriet back with the claim reference", "a recovery case opens for it",
		`name="confirm" value="yes"`, `href="`+path+`#timeline">No, keep it open`)
	resp, _ = agent.submit(path, "/promises/"+due.ID+"/status", url.Values{"status": {"broken"}, "confirm": {"yes"}, "next": {path + "#timeline"}})
	if got, _ := f.services.Promises.FindPromiseByID(context.Background(), due.ID); resp.StatusCode != http.StatusSeeOther ||
		resp.Header.Get("Location") != path+"#timeline" || got.Status != rapport.PromiseBroken {
		t.Errorf("mark broken = %d to %q, status %s", resp.StatusCode, resp.Header.Get("Location"), got.Status)
	}
	if n := f.momentCount(t, harriet); n != before+1 {
		t.Errorf("a broken promise recorded %d moments; want 1, a misery moment", n-before)
	}
	_, body = agent.get(path)
	wantInPage(t, "customer after a broken promise", body, "Promise broken: Call Harriet back with the claim reference", "Promise marked broken.")

	// The next address is kept on this site.
	resp, _ = agent.submit("/promises", "/promises/"+f.promiseByText(t, "Send the signed contract back").ID+"/status",
		url.Values{"status": {"kept"}, "next": {"//evil.example/"}})
	if resp.Header.Get("Location") != "/" {
		t.Errorf("settle with next=//evil.example went to %q; want /", resp.Header.Get("Location"))
	}
}

var surveyURL = regexp.MustCompile(`value="(https?://[^"]+/s/[A-Za-z0-9_-]{43})"`)

func TestSurveyLink(t *testing.T) {
	f := newFixture(t)
	harriet := f.customers["Harriet Vane"].ID
	ms, _ := f.services.Moments.FindMoments(context.Background(), rapport.MomentFilter{CustomerID: harriet, Limit: 2})
	agent := f.signedIn(t, rapport.RoleAgent)
	_, page := agent.get("/customers/" + harriet)
	wantInPage(t, "customer page", page, `hx-post="/moments/`+ms.Items[0].ID+`/survey"`, `id="survey-`+ms.Items[0].ID+`"`)

	// With htmx: a fragment to show under the moment, the link absolute on this host.
	form := url.Values{"csrf_token": {csrfIn(page)}}
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/moments/"+ms.Items[0].ID+"/survey", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("HX-Request", "true")
	r := agent.do(req)
	body := readBody(t, r)
	m := surveyURL.FindStringSubmatch(body)
	if r.StatusCode != http.StatusOK || m == nil || !strings.HasPrefix(m[1], f.srv.URL+"/s/") || strings.Contains(body, "<html") ||
		!strings.Contains(body, "readonly") || !strings.Contains(body, "data-copy=") {
		t.Fatalf("htmx survey link = %d; want a fragment with the link on this host in a read-only field:\n%s", r.StatusCode, body)
	}
	token := m[1][strings.LastIndex(m[1], "/")+1:]
	if _, err := f.services.Surveys.FindSurvey(context.Background(), token); err != nil {
		t.Errorf("the link shown does not work: %v", err)
	}
	if r.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("the link is served with Cache-Control %q; want no-store", r.Header.Get("Cache-Control"))
	}

	// Without script: a page of its own.
	resp, body := agent.submit("/customers/"+harriet, "/moments/"+ms.Items[1].ID+"/survey", url.Values{})
	if resp.StatusCode != http.StatusCreated || !surveyURL.MatchString(body) || !strings.Contains(body, `href="/customers/`+harriet+`"`) {
		t.Errorf("survey link without script = %d; want 201, a page with the link and the way back", resp.StatusCode)
	}

	// An answered moment takes no second link.
	if err := f.services.Surveys.AnswerSurvey(context.Background(), token, rapport.SurveyAnswer{Rating: 5}); err != nil {
		t.Fatal(err)
	}
	resp, body = agent.submit("/customers/"+harriet, "/moments/"+ms.Items[0].ID+"/survey", url.Values{})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "rated this moment already") {
		t.Errorf("a link for an answered moment = %d; want 422 saying it was rated", resp.StatusCode)
	}
	if resp, _ := agent.submit("/customers/"+harriet, "/moments/nothing/survey", url.Values{}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("a link for no moment = %d; want 404", resp.StatusCode)
	}

	// With a public address configured, links are made on it.
	opts := f.opts
	opts.PublicURL = "https://feedback.example.com/"
	srv := httptest.NewServer(web.New(f.services, opts))
	defer srv.Close()
	pub := f.newClient(t)
	pub.base = srv.URL
	_, signin := pub.get("/signin")
	pub.post("/signin", url.Values{"email": {f.users[rapport.RoleAgent].Email}, "password": {testPassword}, "csrf_token": {csrfIn(signin)}})
	_, body = pub.submit("/customers/"+harriet, "/moments/"+ms.Items[1].ID+"/survey", url.Values{})
	if m := surveyURL.FindStringSubmatch(body); m == nil || !strings.HasPrefix(m[1], "https://feedback.example.com/s/") {
		t.Errorf("with a public URL the link is %v; want it on https://feedback.example.com", m)
	}
}

func TestRecoveryViewer(t *testing.T) {
	f := newFixture(t)
	rf := f.seedRecovery(t)
	harriet := f.customers["Harriet Vane"].ID
	viewer := f.signedIn(t, rapport.RoleViewer)
	for _, path := range []string{"/cases", "/cases?show=open", "/cases/" + rf.overdue.ID, "/cases/" + rf.resolved.ID, "/promises",
		"/promises?show=all&staff=", "/reports/recovery", "/reports/promises", "/customers/" + harriet, "/customers/" + harriet + "/brief", "/"} {
		resp, body := viewer.get(path)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("viewer GET %s = %d; want 200", path, resp.StatusCode)
		}
		for _, control := range []string{`action="/cases/`, `action="/promises/`, `id="promise-form"`, `/survey"`, "Make a promise",
			"Take it myself", "Resolve case", "Reopen case", `name="status" value="kept"`, `name="status" value="broken"`, `id="my-day"`} {
			if strings.Contains(body, control) {
				t.Errorf("viewer GET %s shows %q", path, control)
			}
		}
	}
	// Nothing is assigned to a viewer: they start from everyone's.
	_, body := viewer.get("/cases")
	wantInPage(t, "viewer's /cases", body, `id="tab-open" aria-current="page">All open`, "Mary Quant", "Bunter &amp; Co")
	_, body = viewer.get("/promises")
	wantInPage(t, "viewer's /promises", body, "Send Mary the revised invoice", "Call Harriet back with the claim reference")

	ms, _ := f.services.Moments.FindMoments(context.Background(), rapport.MomentFilter{CustomerID: harriet, Limit: 1})
	promisesBefore := len(mustPromises(t, f))
	for _, tc := range []struct {
		path string
		form url.Values
	}{
		{"/cases/" + rf.overdue.ID + "/assign", url.Values{"assignee_id": {"me"}}},
		{"/cases/" + rf.overdue.ID + "/notes", url.Values{"note": {"Viewed"}}},
		{"/cases/" + rf.overdue.ID + "/resolve", url.Values{"resolution": {"Nothing"}}},
		{"/cases/" + rf.resolved.ID + "/reopen", url.Values{}},
		{"/promises/" + rf.dueToday.ID + "/status", url.Values{"status": {"kept"}}},
		{"/customers/" + harriet + "/promises", url.Values{"text": {"Anything"}, "due_date": {"2026-04-01"}}},
		{"/moments/" + ms.Items[0].ID + "/survey", url.Values{}},
	} {
		resp, body := viewer.submit("/cases", tc.path, tc.form)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "Your role does not allow this") {
			t.Errorf("viewer POST %s = %d; want 403 with an explanation", tc.path, resp.StatusCode)
		}
	}
	if c, _ := f.services.Recovery.FindCaseByID(context.Background(), rf.overdue.ID); len(c.Actions) != len(rf.overdue.Actions) || c.Status != rapport.CaseOpen {
		t.Errorf("viewer's posts changed the case: %+v", c)
	}
	if c, _ := f.services.Recovery.FindCaseByID(context.Background(), rf.resolved.ID); c.Status != rapport.CaseResolved {
		t.Error("viewer's post reopened the case")
	}
	if p, _ := f.services.Promises.FindPromiseByID(context.Background(), rf.dueToday.ID); p.Status != rapport.PromiseOpen {
		t.Error("viewer's post settled the promise")
	}
	if n := len(mustPromises(t, f)); n != promisesBefore {
		t.Errorf("viewer's post made a promise: %d promises, want %d", n, promisesBefore)
	}
}

func mustPromises(t *testing.T, f *fixture) []*rapport.Promise {
	t.Helper()
	ps, err := f.services.Promises.FindPromises(context.Background(), rapport.PromiseFilter{Limit: rapport.MaxPageSize})
	if err != nil {
		t.Fatal(err)
	}
	return ps.Items
}

func TestRecoveryCSRF(t *testing.T) {
	f := newFixture(t)
	rf := f.seedRecovery(t)
	agent := f.signedIn(t, rapport.RoleAgent)
	for _, path := range []string{"/cases/" + rf.overdue.ID + "/notes", "/promises/" + rf.dueToday.ID + "/status",
		"/customers/" + f.customers["Harriet Vane"].ID + "/promises"} {
		if resp := agent.post(path, url.Values{"note": {"x"}, "status": {"kept"}, "text": {"x"}, "due_date": {"2026-04-01"}}); resp.StatusCode != http.StatusForbidden {
			t.Errorf("POST %s without a token = %d; want 403", path, resp.StatusCode)
		}
	}
	if p, _ := f.services.Promises.FindPromiseByID(context.Background(), rf.dueToday.ID); p.Status != rapport.PromiseOpen {
		t.Error("a post without a token settled the promise")
	}
}
