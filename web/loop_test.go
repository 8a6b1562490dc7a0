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

// responseStatus returns the status of a touchpoint's response, or "" if it has none by that key.
func (f *fixture) responseStatus(t *testing.T, touchpoint, key string) rapport.ResponseStatus {
	t.Helper()
	rs, err := f.services.Responses.FindResponses(context.Background(), touchpoint)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if r.Key == key {
			return r.Status
		}
	}
	return ""
}

// openAlerts returns the open alerts.
func (f *fixture) openAlerts(t *testing.T) []*rapport.Alert {
	t.Helper()
	as, err := f.services.Alerts.FindAlerts(context.Background(), rapport.AlertFilter{Open: true})
	if err != nil {
		t.Fatal(err)
	}
	return as
}

func TestLoopPages(t *testing.T) {
	f := newFixture(t)
	f.seedLoop(t)
	c := f.signedIn(t, rapport.RoleManager)
	for _, tc := range []struct {
		path string
		want []string
	}{
		{"/touchpoints", []string{`<svg class="chart matrix"`, "Frequent and costly: manage first", `id="priority-table"`,
			"Moments from 5 Mar 2025 to 4 Mar 2026, all channels.", "Manage first", "Catalogue"}},
		{"/touchpoints?from=2026-01-01&to=2026-03-04&channel=phone", []string{"Moments from 1 Jan 2026 to 4 Mar 2026, Phone only.",
			`value="2026-01-01"`, `<option value="phone" selected>`,
			`href="/touchpoints/complaint?channel=phone&amp;from=2026-01-01&amp;to=2026-03-04"`}},
		{"/touchpoints/complaint", []string{
			"Misery here drives customers away: &#43;63 percentage points",
			"Priority 1 of 8, from the data",
			`<svg class="chart intervals"`, "Call back same day · winner",
			"Call back same day delights most", `id="promote-winner"`, "Make “Call back same day” the standard",
			"Holm", "No service standard yet.", `<option value="call_back_same_day" selected>Call back same day (the winner)</option>`,
			`<svg class="chart trend"`, `class="target"`, "target 3.8", `class="band"`,
			`id="add-response"`, `action="/touchpoints/complaint/responses/apologise_and_fix/status"`}},
		{"/touchpoints/delivery", []string{"1 open alert", "Below target", "Delivery is below its target", "Acknowledge",
			"No active responses to compare."}},
		{"/alerts", []string{"Delivery is below its target", `action="/alerts/`, `href="/touchpoints/delivery#watch"`}},
		{"/alerts?show=open", []string{"Delivery is below its target"}},
		{"/", []string{`id="open-alerts"`, "1 open alert", "Delivery is below its target", `name="next" value="/"`}},
	} {
		resp, body := c.get(tc.path)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s = %d; want 200", tc.path, resp.StatusCode)
			continue
		}
		for _, want := range tc.want {
			if !strings.Contains(body, want) {
				t.Errorf("GET %s: page lacks %q", tc.path, want)
			}
		}
		if strings.Contains(body, "<script>") || strings.Contains(body, "style=") {
			t.Errorf("GET %s has inline script or style", tc.path)
		}
	}

	// The report ranks the touchpoint whose misery drives customers away first,
	// and puts every measured touchpoint on the matrix.
	_, body := c.get("/touchpoints")
	complaint, delivery := strings.Index(body, `id="tp-complaint"`), strings.Index(body, `id="tp-delivery"`)
	if complaint < 0 || delivery < 0 || complaint > delivery {
		t.Errorf("the priority table lists complaint at %d and delivery at %d; want complaint first", complaint, delivery)
	}
	if got := strings.Count(body, `class="point-rank"`); got != 8 {
		t.Errorf("the matrix has %d points; want 8", got)
	}

	for _, path := range []string{"/touchpoints?from=2026-13-01", "/touchpoints?from=2026-03-01&to=2026-02-01", "/touchpoints/complaint?channel=pigeon"} {
		resp, body := c.get(path)
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `class="field-error"`) ||
			!strings.Contains(body, "Moments from 5 Mar 2025 to 4 Mar 2026") {
			t.Errorf("GET %s = %d; want 422 with the error beside the field and the default window", path, resp.StatusCode)
		}
	}
	if _, body := c.get("/touchpoints?from=2026-13-01"); !strings.Contains(body, `value="2026-13-01"`) {
		t.Error("a mistaken date is not kept in the filter")
	}
	if resp, _ := c.get("/touchpoints/nothing"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /touchpoints/nothing = %d; want 404", resp.StatusCode)
	}
}

func TestManualPriority(t *testing.T) {
	f := newFixture(t)
	f.seedLoop(t)
	c := f.signedIn(t, rapport.RoleManager)
	edit := url.Values{"name": {"Greeting"}, "phase": {"pre_sales"}, "target_score": {"4.2"}, "priority": {"1"}}
	if resp, _ := c.submit("/touchpoints/greeting/edit", "/touchpoints/greeting", edit); resp.StatusCode != http.StatusSeeOther ||
		resp.Header.Get("Location") != "/touchpoints/greeting" {
		t.Fatalf("set the priority by hand = %d to %q; want 303 to the touchpoint", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, body := c.get("/touchpoints")
	row := body[strings.Index(body, `id="tp-greeting"`):]
	row = row[:strings.Index(row, "</tr>")]
	if !strings.Contains(row, `<span class="rank rank-top">1</span>`) || !strings.Contains(row, "set by hand") {
		t.Errorf("the greeting's row after setting priority 1 reads:\n%s", row)
	}
	if strings.Index(body, `id="tp-greeting"`) > strings.Index(body, `id="tp-complaint"`) {
		t.Error("the touchpoint set to priority 1 is not first")
	}
	if _, body := c.get("/touchpoints/greeting"); !strings.Contains(body, "Priority 1 of 8, set by hand.") {
		t.Error("the touchpoint page does not say its priority was set by hand")
	}
	edit.Set("priority", "0")
	if resp, _ := c.submit("/touchpoints/greeting/edit", "/touchpoints/greeting", edit); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("clear the priority = %d; want 303", resp.StatusCode)
	}
	if tp, _ := f.services.Touchpoints.FindTouchpointByKey(context.Background(), "greeting"); tp.Priority != nil {
		t.Errorf("priority 0 left the override at %d; want it cleared", *tp.Priority)
	}
	if _, body := c.get("/touchpoints"); strings.Contains(body, "set by hand") {
		t.Error("after clearing, a priority is still shown as set by hand")
	}
}

func TestResponses(t *testing.T) {
	f := newFixture(t)
	f.seedLoop(t)
	c := f.signedIn(t, rapport.RoleManager)
	const page, action = "/touchpoints/complaint", "/touchpoints/complaint/responses"

	for _, tc := range []struct {
		name      string
		form      url.Values
		field     string
		message   string
		kept      string
		responses int
	}{
		{"no key", url.Values{"key": {""}, "description": {"Kept <description>"}}, "key", "Enter a key", "Kept &lt;description&gt;", 2},
		{"no description", url.Values{"key": {"listen_first"}, "description": {" "}}, "description", "Describe the response", `value="listen_first"`, 2},
		{"a bad key", url.Values{"key": {"Listen first!"}, "description": {"Let them talk."}}, "key", "This must be lower case letters", `value="Listen first!"`, 2},
		{"a key in use", url.Values{"key": {"call_back_same_day"}, "description": {"Again."}}, "key", "has a response with this key already", "Again.", 2},
	} {
		resp, body := c.submit(page, action, tc.form)
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("add a response with %s = %d; want 422", tc.name, resp.StatusCode)
		}
		for _, want := range []string{`id="f-` + tc.field + `-error"`, tc.message, tc.kept} {
			if !strings.Contains(body, want) {
				t.Errorf("add a response with %s: page lacks %q", tc.name, want)
			}
		}
		if rs, _ := f.services.Responses.FindResponses(context.Background(), "complaint"); len(rs) != tc.responses {
			t.Errorf("add a response with %s: %d responses; want %d", tc.name, len(rs), tc.responses)
		}
	}

	resp, _ := c.submit(page, action, url.Values{"key": {"Listen_First"}, "description": {"Let the customer finish before answering."}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != page+"#responses" {
		t.Fatalf("add a response = %d to %q; want 303 to the responses", resp.StatusCode, resp.Header.Get("Location"))
	}
	if got := f.responseStatus(t, "complaint", "listen_first"); got != rapport.ResponseCandidate {
		t.Fatalf("the new response is %q; want a candidate", got)
	}
	if _, body := c.get(page); !strings.Contains(body, `id="response-listen_first"`) || !strings.Contains(body, "Start trial") ||
		!strings.Contains(body, "Response “Listen first” added as a candidate.") {
		t.Error("the touchpoint page does not list the new response with its actions and a message")
	}

	status := func(s rapport.ResponseStatus) url.Values { return url.Values{"status": {string(s)}} }
	for _, step := range []struct{ to, want rapport.ResponseStatus }{
		{rapport.ResponseTrial, rapport.ResponseTrial},
		{rapport.ResponseCandidate, rapport.ResponseCandidate},
		{rapport.ResponseRetired, rapport.ResponseRetired},
	} {
		resp, _ := c.submit(page, action+"/listen_first/status", status(step.to))
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != page+"#responses" {
			t.Errorf("move to %s = %d to %q; want 303", step.to, resp.StatusCode, resp.Header.Get("Location"))
		}
		if got := f.responseStatus(t, "complaint", "listen_first"); got != step.want {
			t.Errorf("after moving to %s the response is %q", step.to, got)
		}
	}
	_, body := c.get(page)
	row := body[strings.Index(body, `id="response-listen_first"`):]
	row = row[:strings.Index(row, "</tr>")]
	if !strings.Contains(row, "Retired") || !strings.Contains(row, "Reinstate") || strings.Contains(row, "Start trial") {
		t.Errorf("the retired response's row reads:\n%s", row)
	}
	if resp, _ := c.submit(page, action+"/listen_first/status", status(rapport.ResponseStandard)); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("make a response the standard by its status = %d; want 400", resp.StatusCode)
	}
	if resp, _ := c.submit(page, action+"/nobody/status", status(rapport.ResponseTrial)); resp.StatusCode != http.StatusNotFound {
		t.Errorf("move an unknown response = %d; want 404", resp.StatusCode)
	}
	if resp, _ := c.submit(page, "/touchpoints/nothing/responses", url.Values{"key": {"x"}, "description": {"y"}}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("add a response to an unknown touchpoint = %d; want 404", resp.StatusCode)
	}
}

func TestPromote(t *testing.T) {
	f := newFixture(t)
	f.seedLoop(t)
	c := f.signedIn(t, rapport.RoleManager)
	const page, action = "/touchpoints/complaint", "/touchpoints/complaint/standard"

	for _, tc := range []struct{ name, response, message string }{
		{"no response", "", "Choose the response to make the standard."},
		{"an unknown response", "nobody", "No such response at this touchpoint."},
	} {
		resp, body := c.submit(page, action, url.Values{"response": {tc.response}})
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `id="f-response-error"`) || !strings.Contains(body, tc.message) {
			t.Errorf("promote %s = %d; want 422 with %q beside the choice", tc.name, resp.StatusCode, tc.message)
		}
	}

	resp, _ := c.submit(page, action, url.Values{"response": {"call_back_same_day"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != page+"#standard" {
		t.Fatalf("promote the winner = %d to %q; want 303 to the standard", resp.StatusCode, resp.Header.Get("Location"))
	}
	st, err := f.services.Standards.FindStandard(context.Background(), "complaint")
	if err != nil || st.Response != "call_back_same_day" || st.PromotedBy != f.users[rapport.RoleManager].ID {
		t.Fatalf("the standard = %+v, %v; want call_back_same_day promoted by the manager", st, err)
	}
	_, body := c.get(page)
	for _, want := range []string{`id="current-standard"`, "Call the customer back the same day", "promoted by Mo Manager",
		"Nothing to judge yet", "Too few moments to judge decay", `id="standards-history"`, "Current", "Replace the standard with"} {
		if !strings.Contains(body, want) {
			t.Errorf("after promoting, the page lacks %q", want)
		}
	}
	// With no moment since the promotion there is nothing to judge: not a
	// verdict in green.
	for _, unwanted := range []string{"No decay found", "verdict-ok"} {
		if strings.Contains(body, unwanted) {
			t.Errorf("with nothing to judge, the standard shows %q", unwanted)
		}
	}
	if strings.Contains(body, `id="promote-winner"`) {
		t.Error("after promoting the winner, the page still offers to promote it")
	}
	resp, body = c.submit(page, action, url.Values{"response": {"call_back_same_day"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "This response is the standard already.") {
		t.Errorf("promote the standard again = %d; want 422 saying so", resp.StatusCode)
	}

	// Replacing the standard ends the old one and keeps it in the history.
	f.clock.Add(time.Hour)
	if resp, _ := c.submit(page, action, url.Values{"response": {"apologise_and_fix"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("replace the standard = %d; want 303", resp.StatusCode)
	}
	hist, _ := f.services.Standards.StandardHistory(context.Background(), "complaint")
	if len(hist) != 2 || hist[0].Response != "apologise_and_fix" || hist[1].EndedAt == nil {
		t.Errorf("history after replacing = %d standards; want the new one first and the old one ended", len(hist))
	}
}

func TestAcknowledgeAlert(t *testing.T) {
	f := newFixture(t)
	f.seedLoop(t)
	open := f.openAlerts(t)
	if len(open) != 1 || open[0].Touchpoint != "delivery" {
		t.Fatalf("the seed raised %d open alerts; want one on delivery", len(open))
	}
	id := open[0].ID
	c := f.signedIn(t, rapport.RoleAdmin)
	resp, _ := c.submit("/", "/alerts/"+id+"/acknowledge", url.Values{"next": {"/"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Errorf("acknowledge from the dashboard = %d to %q; want 303 back to it", resp.StatusCode, resp.Header.Get("Location"))
	}
	if n := len(f.openAlerts(t)); n != 0 {
		t.Errorf("%d alerts open after acknowledging; want 0", n)
	}
	if _, body := c.get("/"); strings.Contains(body, `id="open-alerts"`) {
		t.Error("the dashboard still shows open alerts")
	}
	if _, body := c.get("/alerts"); !strings.Contains(body, "acknowledged") || !strings.Contains(body, "by Ada Admin") || strings.Contains(body, ">Acknowledge<") {
		t.Error("the alerts page does not show the alert as acknowledged by the admin")
	}
	if _, body := c.get("/alerts?show=open"); !strings.Contains(body, "No open alerts.") {
		t.Error("the open alerts page still lists the alert")
	}
	// Acknowledging twice is harmless; the next page stays on this site.
	resp, _ = c.submit("/alerts", "/alerts/"+id+"/acknowledge", url.Values{"next": {"//evil.example/"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Errorf("acknowledge with next=//evil.example = %d to %q; want 303 to /", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, _ = c.submit("/alerts", "/alerts/"+id+"/acknowledge", url.Values{})
	if resp.Header.Get("Location") != "/alerts" {
		t.Errorf("acknowledge without next goes to %q; want /alerts", resp.Header.Get("Location"))
	}
	if resp, _ := c.submit("/alerts", "/alerts/nothing/acknowledge", url.Values{}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("acknowledge an unknown alert = %d; want 404", resp.StatusCode)
	}
}

// TestAcknowledgeAlertGroup checks that a touchpoint below its target two
// weeks running shows one alert with the earlier one folded under it, and
// that acknowledging it acknowledges both.
func TestAcknowledgeAlertGroup(t *testing.T) {
	f := newFixture(t)
	f.seedLoop(t)
	f.clock.Add(7 * 24 * time.Hour)
	if _, err := f.services.Alerts.EvaluateAlerts(context.Background()); err != nil {
		t.Fatal(err)
	}
	open := f.openAlerts(t)
	if len(open) != 2 || open[0].Touchpoint != "delivery" || open[1].Touchpoint != "delivery" {
		t.Fatalf("two weeks below target raised %d open alerts; want two on delivery", len(open))
	}
	c := f.signedIn(t, rapport.RoleAdmin)
	_, body := c.get("/alerts")
	if n := strings.Count(body, `class="alert-item`); n != 1 || !strings.Contains(body, "1 earlier alert like it") {
		t.Errorf("the alerts page shows %d alerts; want one with the earlier folded under it", n)
	}
	newest, older := open[0].ID, open[1].ID
	if open[1].RaisedAt.After(open[0].RaisedAt) {
		newest, older = older, newest
	}
	if !strings.Contains(body, `name="also" value="`+older+`"`) {
		t.Errorf("the folded alert's form does not carry the earlier alert %s", older)
	}
	resp, _ := c.submit("/alerts", "/alerts/"+newest+"/acknowledge", url.Values{"also": {older}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("acknowledge the group = %d; want 303", resp.StatusCode)
	}
	if n := len(f.openAlerts(t)); n != 0 {
		t.Errorf("%d alerts open after acknowledging the group; want 0", n)
	}
	if _, body := c.get("/alerts"); !strings.Contains(body, "2 alerts acknowledged.") {
		t.Error("the page does not say both alerts were acknowledged")
	}
}

// TestLoopRoleLimits checks that agents and viewers see the loop but no
// control that changes it, and that their posts change nothing: the
// services do not check roles, so the handlers must.
func TestLoopRoleLimits(t *testing.T) {
	f := newFixture(t)
	f.seedLoop(t)
	alert := f.openAlerts(t)[0].ID
	for _, role := range []rapport.Role{rapport.RoleAgent, rapport.RoleViewer} {
		c := f.signedIn(t, role)
		for _, tc := range []struct{ path, see string }{
			{"/", "Delivery is below its target"},
			{"/touchpoints", "Priority matrix"},
			{"/touchpoints/complaint", "Call back same day delights most"},
			{"/touchpoints/delivery", "Delivery is below its target"},
			{"/alerts", "Delivery is below its target"},
		} {
			resp, body := c.get(tc.path)
			if resp.StatusCode != http.StatusOK || !strings.Contains(body, tc.see) {
				t.Errorf("%s GET %s = %d; want 200 showing %q", role, tc.path, resp.StatusCode, tc.see)
			}
			for _, control := range []string{"/responses\"", "/status\"", "/standard\"", "/acknowledge\"", "Acknowledge",
				"Add a response", "Make “Call back same day” the standard", "Promote", "Edit touchpoint", "/edit"} {
				if strings.Contains(body, control) {
					t.Errorf("%s GET %s shows %q", role, tc.path, control)
				}
			}
		}
		for _, tc := range []struct {
			path string
			form url.Values
		}{
			{"/touchpoints/complaint/responses", url.Values{"key": {"sneaky"}, "description": {"Not allowed."}}},
			{"/touchpoints/complaint/responses/apologise_and_fix/status", url.Values{"status": {"retired"}}},
			{"/touchpoints/complaint/standard", url.Values{"response": {"call_back_same_day"}}},
			{"/alerts/" + alert + "/acknowledge", url.Values{"next": {"/"}}},
		} {
			resp, body := c.submit("/touchpoints/complaint", tc.path, tc.form)
			if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "Your role does not allow this") {
				t.Errorf("%s POST %s = %d; want 403 with an explanation", role, tc.path, resp.StatusCode)
			}
		}
	}
	if got := f.responseStatus(t, "complaint", "sneaky"); got != "" {
		t.Error("a refused post added a response")
	}
	if got := f.responseStatus(t, "complaint", "apologise_and_fix"); got != rapport.ResponseTrial {
		t.Errorf("a refused post moved a response to %q", got)
	}
	if _, err := f.services.Standards.FindStandard(context.Background(), "complaint"); rapport.ErrorCode(err) != rapport.ENOTFOUND {
		t.Errorf("a refused post promoted a standard: %v", err)
	}
	if n := len(f.openAlerts(t)); n != 1 {
		t.Errorf("a refused post acknowledged the alert: %d open; want 1", n)
	}
}

// TestLoopNew checks the loop's pages of a new firm, before there is
// anything to measure.
func TestLoopNew(t *testing.T) {
	f := newFixture(t)
	c := f.signedIn(t, rapport.RoleManager)
	for _, tc := range []struct {
		path string
		want []string
	}{
		{"/touchpoints", []string{"No impact is measured yet.", "Impact not measured yet: ", `id="priority-table"`}},
		{"/touchpoints/greeting", []string{"Not measured yet.", "No responses yet. Add the first one below.",
			"No active responses to compare.", "No service standard yet.", "No alerts."}},
		{"/alerts", []string{"No alerts yet."}},
	} {
		resp, body := c.get(tc.path)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s = %d; want 200", tc.path, resp.StatusCode)
		}
		for _, want := range tc.want {
			if !strings.Contains(body, want) {
				t.Errorf("GET %s: page lacks %q", tc.path, want)
			}
		}
	}
	// A first response with one not yet tried: no winner, and why.
	c.submit("/touchpoints/greeting", "/touchpoints/greeting/responses", url.Values{"key": {"smile"}, "description": {"Smile and use their name."}})
	if _, body := c.get("/touchpoints/greeting"); !strings.Contains(body, "No winner yet: too few moments") {
		t.Error("with one untried response, the comparison does not say there are too few moments")
	}
}

// TestStandardDecay promotes the winner, then lets a month of moments show
// its delight has worn off: the page says it is time to improve the
// standard, and the decay alert reaches the dashboard.
func TestStandardDecay(t *testing.T) {
	f := newFixture(t)
	f.seedLoop(t)
	c := f.signedIn(t, rapport.RoleManager)
	if resp, _ := c.submit("/touchpoints/complaint", "/touchpoints/complaint/standard", url.Values{"response": {"call_back_same_day"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("promote = %d; want 303", resp.StatusCode)
	}
	f.clock.Add(30 * 24 * time.Hour)
	var later []*rapport.Moment
	for i := range 40 {
		rating := 4
		if i%10 == 0 {
			rating = 5
		}
		later = append(later, &rapport.Moment{CustomerID: f.customers["Harriet Vane"].ID, Touchpoint: "complaint", Channel: rapport.ChannelPhone,
			Response: "call_back_same_day", OccurredAt: f.clock.Now().Add(-time.Duration(i) * time.Hour), Rating: &rating})
	}
	if _, err := f.services.Moments.RecordMoments(context.Background(), later); err != nil {
		t.Fatal(err)
	}
	if _, err := f.services.Alerts.EvaluateAlerts(context.Background()); err != nil {
		t.Fatal(err)
	}
	c = f.signedIn(t, rapport.RoleManager) // a month on, the first session has expired
	_, body := c.get("/touchpoints/complaint")
	for _, want := range []string{`class="verdict verdict-bad" id="decay"`, "Time to improve this standard", "of 40 moments",
		"the delight has become a basic expectation", "Standard decayed", `<span class="badge badge-misery">Decayed</span>`} {
		if !strings.Contains(body, want) {
			t.Errorf("after a month of ordinary call-backs, the page lacks %q", want)
		}
	}
	if _, body := c.get("/"); !strings.Contains(body, "Standard decayed") || !strings.Contains(body, `href="/touchpoints/complaint#watch"`) {
		t.Error("the dashboard does not show the decay alert linked to its touchpoint")
	}
}
