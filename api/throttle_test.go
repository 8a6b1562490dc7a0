package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/api"
	"github.com/rapport-crm/rapport/internal/testdb"
	"github.com/rapport-crm/rapport/sqlstore"
)

// TestTokenGuessingThrottled sends wrong tokens from one address: after
// thirty, every request from it waits (429 with Retry-After), a good token
// too, so a guess cannot be told apart; once the wait is over the good
// token works again.
func TestTokenGuessingThrottled(t *testing.T) {
	clock := testdb.NewClock(now)
	db := testdb.SQLite(t, clock.Now)
	services := sqlstore.NewServices(db, sqlstore.Options{})
	good, err := services.Tokens.CreateToken(context.Background(), &rapport.Token{Name: "reader", Role: rapport.RoleViewer})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.NewServer(services, api.Options{Clock: clock.Now}))
	t.Cleanup(srv.Close)
	get := func(token string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("GET", srv.URL+"/api/v1/me", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	for i := 1; i <= 29; i++ {
		if resp := get("rpt_wrong"); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("wrong token %d = %d; want 401", i, resp.StatusCode)
		}
	}
	if resp := get(good); resp.StatusCode != http.StatusOK {
		t.Fatalf("the good token among the guesses = %d; want 200", resp.StatusCode)
	}
	get("rpt_wrong") // the thirtieth
	req, _ := http.NewRequest("GET", srv.URL+"/api/v1/me", nil)
	req.Header.Set("Authorization", "Bearer "+good)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		Status int    `json:"status"`
		Detail string `json:"detail"`
	}
	json.NewDecoder(resp.Body).Decode(&p)
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "60" ||
		resp.Header.Get("Content-Type") != "application/problem+json" || p.Status != 429 || p.Detail == "" {
		t.Errorf("the good token after thirty wrong ones = %d, Retry-After %q, %+v; want a 429 problem, after 60 s", resp.StatusCode, resp.Header.Get("Retry-After"), p)
	}
	clock.Add(time.Minute)
	if resp := get(good); resp.StatusCode != http.StatusOK {
		t.Errorf("the good token after the wait = %d; want 200", resp.StatusCode)
	}
}
