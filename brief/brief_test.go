package brief_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/brief"
	"github.com/rapport-crm/rapport/internal/testdb"
	"github.com/rapport-crm/rapport/sqlstore"
)

func TestBriefPage(t *testing.T) {
	ctx := context.Background()
	clock := testdb.NewClock(time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC))
	db := testdb.SQLite(t, clock.Now)
	owner := &rapport.User{Name: "Olive Owner", Email: "olive@firm.example", Role: rapport.RoleAgent, Team: "Care"}
	if err := sqlstore.NewUserService(db).CreateUser(ctx, owner); err != nil {
		t.Fatal(err)
	}
	c := &rapport.Customer{Name: "Ada <Lovelace>", OwnerID: owner.ID, Preferences: rapport.Preferences{Likes: []string{"email updates"}}}
	if err := sqlstore.NewCustomerService(db).CreateCustomer(ctx, c); err != nil {
		t.Fatal(err)
	}
	m := &rapport.Moment{CustomerID: c.ID, Touchpoint: "service", Channel: rapport.ChannelPhone, StaffID: owner.ID,
		OccurredAt: clock.Now().Add(-time.Hour), Rating: new(int), Notes: "Claim photos lost"}
	*m.Rating = 1
	if _, err := sqlstore.NewMomentService(db).RecordMoment(ctx, m); err != nil {
		t.Fatal(err)
	}
	p := &rapport.Promise{CustomerID: c.ID, StaffID: owner.ID, Text: "Call back about the photos", DueAt: clock.Now().Add(48 * time.Hour)}
	if err := sqlstore.NewPromiseService(db).CreatePromise(ctx, p); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(brief.New(brief.Config{Briefs: sqlstore.NewBriefService(db), Touchpoints: sqlstore.NewTouchpointService(db),
		FirmName: "Harbour Mutual"}))
	defer srv.Close()

	res, err := http.Get(srv.URL + "/brief/" + c.ID)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	page := string(body)
	if res.StatusCode != 200 {
		t.Fatalf("GET brief = %d\n%s", res.StatusCode, page)
	}
	for _, want := range []string{"Harbour Mutual", "Ada &lt;Lovelace&gt;", "Call back about the photos", "Claim photos lost", "Service visit",
		"Olive Owner (Care)", "email updates", `href="/brief/static/brief.css"`, "1 cases, 1 open"} {
		if !strings.Contains(page, want) {
			t.Errorf("brief page lacks %q", want)
		}
	}
	if strings.Contains(page, "<script") || strings.Contains(page, "style=") {
		t.Error("brief page has a script or inline style")
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("Content-Security-Policy = %q", csp)
	}
	for path, want := range map[string]int{"/brief/01NOSUCHCUSTOMER0000000000": 404, "/brief/static/brief.css": 200} {
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != want {
			t.Errorf("GET %s = %d; want %d", path, res.StatusCode, want)
		}
	}
}
