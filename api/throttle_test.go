package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
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

// TestSignInHoldLifted holds an account after five wrong passwords in the
// throttle the web UI shares with the API: an admin lists it and lifts it,
// lifting again is a 404, and a hold on an email of no account is not
// listed.
func TestSignInHoldLifted(t *testing.T) {
	clock := testdb.NewClock(now)
	db := testdb.SQLite(t, clock.Now)
	services := sqlstore.NewServices(db, sqlstore.Options{})
	ctx := context.Background()
	admin, err := services.Tokens.CreateToken(ctx, &rapport.Token{Name: "admin", Role: rapport.RoleAdmin})
	if err != nil {
		t.Fatal(err)
	}
	ana := &rapport.User{Email: "ana@harbour.example", Name: "Ana Agent", Role: rapport.RoleAgent}
	if err := services.Users.CreateUser(ctx, ana); err != nil {
		t.Fatal(err)
	}
	signIns := rapport.SignInThrottle(clock.Now)
	for range 5 {
		signIns.Fail(rapport.SignInKey("Ana@Harbour.example"))
		signIns.Fail(rapport.SignInKey("nobody@harbour.example"))
	}
	srv := httptest.NewServer(api.NewServer(services, api.Options{Clock: clock.Now, SignIns: signIns}))
	t.Cleanup(srv.Close)
	call := func(method, path string) (int, []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+admin)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	code, body := call("GET", "/api/v1/sign-in-holds")
	var holds rapport.Page[rapport.SignInHold]
	json.Unmarshal(body, &holds)
	if code != http.StatusOK || len(holds.Items) != 1 || holds.Items[0].User.ID != ana.ID ||
		holds.Items[0].Failures != 5 || !holds.Items[0].Until.Equal(now.Add(time.Minute)) {
		t.Fatalf("GET sign-in-holds = %d %s; want Ana alone, held for a minute after 5 failures", code, body)
	}
	if code, body := call("DELETE", "/api/v1/users/"+ana.ID+"/sign-in-hold"); code != http.StatusNoContent {
		t.Fatalf("lifting Ana's hold = %d %s; want 204", code, body)
	}
	if signIns.Wait(rapport.SignInKey(ana.Email)) != 0 {
		t.Error("after the lift Ana is still held")
	}
	if code, _ := call("DELETE", "/api/v1/users/"+ana.ID+"/sign-in-hold"); code != http.StatusNotFound {
		t.Errorf("lifting again = %d; want 404", code)
	}
	if code, body := call("GET", "/api/v1/sign-in-holds"); code != http.StatusOK || !strings.Contains(string(body), `"items":[]`) {
		t.Errorf("after the lift, GET sign-in-holds = %d %s; want an empty list", code, body)
	}
}
