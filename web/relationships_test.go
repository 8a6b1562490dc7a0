package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/rapport-crm/rapport"
)

// seedProducts adds the products customers may hold, and gives Harriet two.
func (f *fixture) seedProducts(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	for _, p := range []*rapport.Product{{Key: "home", Name: "Home cover"}, {Key: "motor", Name: "Motor cover"}, {Key: "travel", Name: "Travel cover"}} {
		if err := f.services.Holdings.CreateProduct(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range []string{"home", "motor"} {
		if _, err := f.services.Holdings.AddHolding(ctx, f.customers["Harriet Vane"].ID, rapport.HoldingInput{Product: k}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.services.Holdings.AddHolding(ctx, f.customers["Peter Wimsey"].ID, rapport.HoldingInput{Product: "home"}); err != nil {
		t.Fatal(err)
	}
}

func TestRelationshipPanel(t *testing.T) {
	f := newFixture(t)
	f.seedProducts(t)
	c := f.signedIn(t, rapport.RoleAgent)
	harriet := f.customers["Harriet Vane"].ID
	page := "/customers/" + harriet
	resp, body := c.get(page)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %d; want 200", page, resp.StatusCode)
	}
	wantInPage(t, "customer page", body, `id="relationship"`, "Health", "Dissolution risk", `id="stage-form"`,
		"Home cover", "Motor cover", `id="holding-form"`, "Referred by", "Might take next")
}

func TestSetStage(t *testing.T) {
	f := newFixture(t)
	c := f.signedIn(t, rapport.RoleAgent)
	peter := f.customers["Peter Wimsey"].ID
	page := "/customers/" + peter

	// Dissolution without a reason comes back with the error beside the field
	// and what was typed kept.
	resp, body := c.submit(page, page+"/stage", url.Values{"stage": {"dissolution"}, "reason": {"Moved to a rival"}})
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("dissolution without a reason = %d; want 422", resp.StatusCode)
	}
	wantInPage(t, "stage form with an error", body, `id="f-dissolution_reason-error"`, `value="Moved to a rival"`,
		`<option value="dissolution" selected>`, "<details class=\"rel-set\" open>")

	resp, _ = c.submit(page, page+"/stage", url.Values{"stage": {"dissolution"}, "reason": {"Moved to a rival"}, "dissolution_reason": {"defected"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("set stage = %d; want 303", resp.StatusCode)
	}
	st, err := f.services.Stages.StageStatus(context.Background(), peter)
	if err != nil {
		t.Fatal(err)
	}
	if st.Stage != rapport.StageDissolution || st.SetBy != rapport.StageSetByHand {
		t.Errorf("stage = %s set by %s; want dissolution set by hand", st.Stage, st.SetBy)
	}
	_, body = c.get(page)
	wantInPage(t, "customer page after setting the stage", body, `id="stage-history"`, "Moved to a rival", "Alex Agent", "Hand back to the rules")

	resp, _ = c.submit(page, page+"/stage/release", url.Values{})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("release stage = %d; want 303", resp.StatusCode)
	}
	if st, _ := f.services.Stages.StageStatus(context.Background(), peter); st.SetBy == rapport.StageSetByHand {
		t.Errorf("after release the stage is still set by hand")
	}
}

func TestHoldings(t *testing.T) {
	f := newFixture(t)
	f.seedProducts(t)
	c := f.signedIn(t, rapport.RoleAgent)
	ctx := context.Background()
	bunter := f.customers["Bunter & Co"].ID
	page := "/customers/" + bunter

	resp, body := c.submit(page, page+"/holdings", url.Values{"product": {""}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `id="f-product-error"`) {
		t.Errorf("add a holding without a product = %d; want 422 with the error beside the field", resp.StatusCode)
	}
	resp, _ = c.submit(page, page+"/holdings", url.Values{"product": {"travel"}, "started": {"2026-02-01"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("add a holding = %d; want 303", resp.StatusCode)
	}
	hs, err := f.services.Holdings.FindHoldings(ctx, bunter)
	if err != nil || len(hs) != 1 || hs[0].Product != "travel" || hs[0].EndedAt != nil {
		t.Fatalf("holdings after adding = %v, %v; want one current travel holding", hs, err)
	}
	_, body = c.get(page)
	wantInPage(t, "customer page with a holding", body, "Travel cover", "since 1 Feb 2026", "/holdings/"+hs[0].ID+"/end")

	resp, _ = c.submit(page, page+"/holdings/"+hs[0].ID+"/end", url.Values{})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("end a holding = %d; want 303", resp.StatusCode)
	}
	if hs, _ = f.services.Holdings.FindHoldings(ctx, bunter); len(hs) != 1 || hs[0].EndedAt == nil {
		t.Errorf("holding after ending it is still current")
	}
}

func TestRelationshipViewer(t *testing.T) {
	f := newFixture(t)
	f.seedProducts(t)
	c := f.signedIn(t, rapport.RoleViewer)
	harriet := f.customers["Harriet Vane"].ID
	page := "/customers/" + harriet
	resp, body := c.get(page)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("viewer GET %s = %d", page, resp.StatusCode)
	}
	wantInPage(t, "viewer's customer page", body, `id="relationship"`, "Home cover")
	for _, form := range []string{`id="stage-form"`, `id="holding-form"`, "/holdings/", "/stage/"} {
		if strings.Contains(body, form) {
			t.Errorf("viewer's customer page shows %q", form)
		}
	}
	for _, path := range []string{page + "/stage", page + "/stage/accept", page + "/stage/release", page + "/stage/dismiss", page + "/holdings", page + "/holdings/x/end"} {
		if resp, _ := c.submit(page, path, url.Values{"stage": {"awareness"}, "reason": {"x"}, "product": {"travel"}}); resp.StatusCode != http.StatusForbidden {
			t.Errorf("viewer POST %s = %d; want 403", path, resp.StatusCode)
		}
	}
}

func TestSegments(t *testing.T) {
	f := newFixture(t)
	f.seedProducts(t)
	c := f.signedIn(t, rapport.RoleManager)
	ctx := context.Background()

	resp, body := c.get("/segments")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /segments = %d; want 200", resp.StatusCode)
	}
	wantInPage(t, "segments", body, "No segments yet", `href="/segments/new"`, `aria-current="page">Segments`)

	// A rule that cannot be read comes back with the fault beside the field,
	// a caret under its column, and what was typed kept.
	bad := "stage = \"commitment\"\nand holdings >"
	resp, body = c.submit("/segments/new", "/segments", url.Values{"name": {"Loyal"}, "rule": {bad}})
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("create with a bad rule = %d; want 422", resp.StatusCode)
	}
	wantInPage(t, "segment form with a bad rule", body, `id="f-rule-error"`, "Line 2, column", `id="rule-caret"`,
		"and holdings &gt;\n", `value="Loyal"`, "stage = &#34;commitment&#34;\nand holdings &gt;</textarea>")
	if sgs, _ := f.services.Segments.FindSegments(ctx); len(sgs) != 0 {
		t.Errorf("a bad rule saved %d segments", len(sgs))
	}

	resp, _ = c.submit("/segments/new", "/segments", url.Values{"name": {"Loyal"}, "rule": {"stage = \"commitment\" or holdings >= 1"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("create a segment = %d; want 303", resp.StatusCode)
	}
	sgs, err := f.services.Segments.FindSegments(ctx)
	if err != nil || len(sgs) != 1 {
		t.Fatalf("segments = %v, %v; want 1", sgs, err)
	}
	sg := sgs[0]
	if loc := resp.Header.Get("Location"); loc != "/segments/"+sg.ID {
		t.Errorf("create redirects to %q; want the segment's page", loc)
	}
	resp, body = c.get("/segments/" + sg.ID)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET segment = %d", resp.StatusCode)
	}
	// Harriet is in commitment and holds two products; Peter holds one.
	wantInPage(t, "segment page", body, `id="segment-members"`, "Harriet Vane", "Peter Wimsey", "Outcomes",
		`hx-get="/segments/`+sg.ID+`/outcomes"`, `href="/segments/`+sg.ID+`/edit"`)
	// The outcomes come once the page is shown; without htmx, the report.
	req, _ := http.NewRequest(http.MethodGet, f.srv.URL+"/segments/"+sg.ID+"/outcomes", nil)
	req.Header.Set("HX-Request", "true")
	r := c.do(req)
	if frag := readBody(t, r); r.StatusCode != http.StatusOK || !strings.Contains(frag, "Retention") || strings.Contains(frag, "<html") {
		t.Errorf("segment outcomes = %d:\n%s\nwant a fragment with the outcomes", r.StatusCode, frag)
	}
	if resp, _ := c.get("/segments/" + sg.ID + "/outcomes"); resp.StatusCode != http.StatusSeeOther ||
		resp.Header.Get("Location") != "/reports/outcomes?segment="+sg.ID {
		t.Errorf("segment outcomes without htmx = %d to %q; want 303 to the outcomes report", resp.StatusCode, resp.Header.Get("Location"))
	}
	for _, out := range []string{"Miss Climpson", "Sally Conway", "Bunter"} {
		if strings.Contains(body, out) {
			t.Errorf("segment page lists %s, who does not match", out)
		}
	}

	// Edit: a bad rule is refused, a good one changes the members.
	path := "/segments/" + sg.ID
	resp, body = c.submit(path+"/edit", path, url.Values{"name": {"Loyal"}, "rule": {"stage in ("}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `id="rule-caret"`) {
		t.Errorf("edit with a bad rule = %d; want 422 with the caret", resp.StatusCode)
	}
	resp, _ = c.submit(path+"/edit", path, url.Values{"name": {"Committed"}, "rule": {"stage = \"commitment\""}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("edit a segment = %d; want 303", resp.StatusCode)
	}
	_, body = c.get(path)
	wantInPage(t, "segment page after editing", body, "Committed", "Harriet Vane")
	if strings.Contains(body, "Peter Wimsey") {
		t.Errorf("after editing the rule Peter is still a member")
	}
	_, body = c.get("/segments")
	wantInPage(t, "segments", body, "Committed", `id="segment-list"`)
	if resp, _ := c.get("/segments/01NOSUCHSEGMENT00000000000"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET an unknown segment = %d; want 404", resp.StatusCode)
	}
}

func TestSegmentMembersPaged(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for i := range 30 {
		c := &rapport.Customer{Name: fmt.Sprintf("Paged %02d", i), Stage: rapport.StageExpansion}
		if err := f.services.Customers.CreateCustomer(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	sg := &rapport.Segment{Name: "Expanding", Rule: `stage = "expansion"`}
	if err := f.services.Segments.CreateSegment(ctx, sg); err != nil {
		t.Fatal(err)
	}
	c := f.signedIn(t, rapport.RoleViewer)
	_, body := c.get("/segments/" + sg.ID)
	if n := strings.Count(body, `<th scope="row"><a href="/customers/`); n != 25 {
		t.Errorf("first page lists %d members; want 25", n)
	}
	m := regexp.MustCompile(`href="(/segments/[^"?]+\?cursor=[^"]+)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatal("first page has no link to the next")
	}
	_, body = c.get(strings.ReplaceAll(m[1], "&amp;", "&"))
	if n := strings.Count(body, `<th scope="row"><a href="/customers/`); n != 6 {
		t.Errorf("second page lists %d members; want 6 (30 new and Peter)", n)
	}
}

func TestOutcomesReport(t *testing.T) {
	f := newFixture(t)
	f.seedProducts(t)
	ctx := context.Background()
	for _, sg := range []*rapport.Segment{{Name: "Committed", Rule: `stage = "commitment"`}, {Name: "Holders", Rule: `holdings >= 1`}} {
		if err := f.services.Segments.CreateSegment(ctx, sg); err != nil {
			t.Fatal(err)
		}
	}
	c := f.signedIn(t, rapport.RoleViewer)
	resp, body := c.get("/reports/outcomes")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /reports/outcomes = %d; want 200", resp.StatusCode)
	}
	wantInPage(t, "outcomes", body, "All customers", "Committed", "Holders", `class="hbars"`, `class="hbar-ci"`, "95% interval", `id="outcome-table"`,
		"Satisfaction: mean rating", "Loyalty", "Retention", "Referrals", "Revenue growth", "Cross-sell", "Cost to serve")
	all, err := f.services.Outcomes.Outcomes(ctx, rapport.OutcomeFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(body, fmt.Sprintf(`<td class="num">%d</td>`, all.Customers)) {
		t.Errorf("outcomes page lacks the customer count %d", all.Customers)
	}
	wantInPage(t, "outcomes", body, `id="outcomes-measured"`, `href="/reports/outcomes?fresh=1"`)

	// A customer added since is counted once the report is measured again.
	if err := f.services.Customers.CreateCustomer(ctx, &rapport.Customer{Name: "Newcomer"}); err != nil {
		t.Fatal(err)
	}
	if _, body = c.get("/reports/outcomes"); !strings.Contains(body, fmt.Sprintf(`<td class="num">%d</td>`, all.Customers)) {
		t.Errorf("the outcomes report measured a minute ago lacks its count %d", all.Customers)
	}
	if _, body = c.get("/reports/outcomes?fresh=1"); !strings.Contains(body, fmt.Sprintf(`<td class="num">%d</td>`, all.Customers+1)) {
		t.Errorf("the outcomes report measured now lacks the new count %d", all.Customers+1)
	}

	resp, body = c.get("/reports/outcomes?from=2026-01-01&to=2026-02-28")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("outcomes with a window = %d", resp.StatusCode)
	}
	wantInPage(t, "outcomes with a window", body, "From 1 Jan 2026 to 28 Feb 2026", `value="2026-01-01"`)
	resp, body = c.get("/reports/outcomes?from=nonsense")
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "Enter a date") {
		t.Errorf("outcomes with a bad date = %d; want 422 with the error beside the field", resp.StatusCode)
	}
}

func TestSegmentsRoles(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	sg := &rapport.Segment{Name: "Committed", Rule: `stage = "commitment"`}
	if err := f.services.Segments.CreateSegment(ctx, sg); err != nil {
		t.Fatal(err)
	}
	for _, role := range []rapport.Role{rapport.RoleViewer, rapport.RoleAgent} {
		c := f.signedIn(t, role)
		for _, path := range []string{"/segments", "/segments/" + sg.ID} {
			resp, body := c.get(path)
			if resp.StatusCode != http.StatusOK {
				t.Errorf("%s GET %s = %d; want 200", role, path, resp.StatusCode)
			}
			if strings.Contains(body, "/segments/new") || strings.Contains(body, "/edit") || strings.Contains(body, "/delete") {
				t.Errorf("%s sees segment controls on %s", role, path)
			}
		}
		if resp, _ := c.get("/segments/new"); resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s GET /segments/new = %d; want 403", role, resp.StatusCode)
		}
		for _, path := range []string{"/segments", "/segments/" + sg.ID, "/segments/" + sg.ID + "/delete"} {
			if resp, _ := c.submit("/segments", path, url.Values{"name": {"x"}, "rule": {`stage = "awareness"`}}); resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s POST %s = %d; want 403", role, path, resp.StatusCode)
			}
		}
	}
	c := f.signedIn(t, rapport.RoleAdmin)
	if resp, _ := c.submit("/segments/"+sg.ID, "/segments/"+sg.ID+"/delete", url.Values{}); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("admin deletes a segment = %d; want 303", resp.StatusCode)
	}
	if sgs, _ := f.services.Segments.FindSegments(ctx); len(sgs) != 0 {
		t.Errorf("after deleting, %d segments remain", len(sgs))
	}
}

// TestSegmentPreview checks the live preview of the rule being written:
// with htmx a fragment with who matches now or where the rule cannot be
// read; without, the form with the rule filled in; only for those who may
// write segments.
func TestSegmentPreview(t *testing.T) {
	f := newFixture(t)
	f.seedProducts(t)
	c := f.signedIn(t, rapport.RoleManager)
	preview := func(rule string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, f.srv.URL+"/segments/preview?"+url.Values{"rule": {rule}}.Encode(), nil)
		req.Header.Set("HX-Request", "true")
		resp := c.do(req)
		body := readBody(t, resp)
		if strings.Contains(body, "<html") {
			t.Errorf("preview of %q is a whole page; want a fragment", rule)
		}
		return resp.StatusCode, body
	}

	_, form := c.get("/segments/new")
	wantInPage(t, "new segment form", form, `hx-get="/segments/preview"`, `id="rule-preview"`)

	// Harriet is in commitment and holds two products; Peter holds one.
	status, body := preview(`stage = "commitment" or holdings >= 1`)
	wantInPage(t, "preview", body, `<strong id="preview-size">2</strong> customers match now`, "Harriet Vane", "Peter Wimsey")
	if status != http.StatusOK || strings.Contains(body, "Bunter") {
		t.Errorf("preview = %d, lists Bunter: %v; want 200 without him", status, strings.Contains(body, "Bunter"))
	}
	_, body = preview(`stage = "commitment" and holdings >= 2`)
	wantInPage(t, "narrower preview", body, `<strong id="preview-size">1</strong> customer matches now`, "Harriet Vane")

	_, body = preview("stage = \"commitment\"\nand holdings >")
	wantInPage(t, "preview of a bad rule", body, `id="preview-fault"`, "Line 2, column", "and holdings &gt;\n")
	_, body = preview("")
	wantInPage(t, "preview of no rule", body, "Write a rule to see who it matches.")
	if sgs, _ := f.services.Segments.FindSegments(context.Background()); len(sgs) != 0 {
		t.Errorf("previews saved %d segments", len(sgs))
	}

	resp, body := c.get("/segments/preview?" + url.Values{"rule": {`risk > 10`}}.Encode())
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("preview without htmx = %d; want 200", resp.StatusCode)
	}
	wantInPage(t, "preview without htmx", body, `id="segment-form"`, "risk &gt; 10</textarea>")

	viewer := f.signedIn(t, rapport.RoleViewer)
	if resp, _ := viewer.get("/segments/preview?rule=risk+%3E+1"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("viewer's preview = %d; want 403", resp.StatusCode)
	}
}

// TestDismissProposal checks the Dismiss button beside what the rules
// propose: it sets the proposal aside and says so.
func TestDismissProposal(t *testing.T) {
	f := newFixture(t)
	f.seedProducts(t)
	ctx := context.Background()
	peter := f.customers["Peter Wimsey"].ID
	if _, err := f.services.Stages.SetStage(ctx, peter, rapport.StageInput{Stage: rapport.StageAwareness, Reason: "not yet"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.services.Holdings.AddHolding(ctx, peter, rapport.HoldingInput{Product: "motor"}); err != nil {
		t.Fatal(err)
	}
	if st, _ := f.services.Stages.StageStatus(ctx, peter); st.Proposal == nil {
		t.Fatalf("no proposal to dismiss: %+v", st)
	}
	c := f.signedIn(t, rapport.RoleAgent)
	page := "/customers/" + peter
	_, body := c.get(page)
	wantInPage(t, "customer page with a proposal", body, `id="rel-proposal"`, `id="rel-dismiss"`)
	resp, _ := c.submit(page, page+"/stage/dismiss", url.Values{})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("dismiss = %d; want 303", resp.StatusCode)
	}
	if st, _ := f.services.Stages.StageStatus(ctx, peter); st.Proposal != nil || st.Stage != rapport.StageAwareness {
		t.Errorf("after dismissing: %+v; want awareness without a proposal", st)
	}
	_, body = c.get(page)
	wantInPage(t, "customer page after dismissing", body, "Proposal dismissed")
	if strings.Contains(body, `id="rel-proposal"`) {
		t.Errorf("the dismissed proposal is still shown")
	}
}
