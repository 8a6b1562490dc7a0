package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/rapport-crm/rapport"
)

// secretIn returns the value of the read-only field with the id, where the
// settings page shows a new secret once.
func secretIn(page, id string) string {
	m := regexp.MustCompile(`id="` + id + `" class="copy-field" type="text" readonly value="([^"]+)"`).FindStringSubmatch(page)
	if m == nil {
		return ""
	}
	return m[1]
}

func TestWebhookCreate(t *testing.T) {
	f := newFixture(t)
	c := f.signedIn(t, rapport.RoleAdmin)
	ctx := context.Background()

	resp, body := c.get("/settings")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /settings = %d; want 200", resp.StatusCode)
	}
	wantInPage(t, "settings page", body, `id="settings-link"`, `id="webhook-form"`, `id="token-form"`, "No webhooks yet.",
		`name="kinds" value="moment.misery" checked`)

	resp, body = c.submit("/settings", "/settings/webhooks", url.Values{
		"url": {"https://hooks.example.com/rapport"}, "kinds": {"case.opened", "moment.misery"}, "description": {"The help desk"}})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("add a webhook = %d; want 201", resp.StatusCode)
	}
	secret := secretIn(body, "webhook-secret")
	if !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("the answer shows the secret %q; want one starting whsec_", secret)
	}
	wantInPage(t, "answer to adding a webhook", body, "will not be shown again", "https://hooks.example.com/rapport", "The help desk")
	ws, err := f.services.Webhooks.FindWebhooks(ctx)
	if err != nil || len(ws) != 1 {
		t.Fatalf("webhooks after adding = %v, %v; want one", ws, err)
	}
	if w := ws[0]; !w.Active || strings.Join(w.Kinds, ",") != "moment.misery,case.opened" || w.Description != "The help desk" {
		t.Errorf("stored webhook = %+v; want active, moment.misery and case.opened, described", w)
	}

	for _, path := range []string{"/settings", "/settings/webhooks/" + ws[0].ID} {
		_, body = c.get(path)
		if strings.Contains(body, secret) {
			t.Errorf("GET %s shows the secret again", path)
		}
		wantInPage(t, path, body, "https://hooks.example.com/rapport", "case.opened")
	}
}

func TestWebhookInvalid(t *testing.T) {
	f := newFixture(t)
	c := f.signedIn(t, rapport.RoleAdmin)
	for _, tc := range []struct {
		name  string
		form  url.Values
		field string
		kept  string
	}{
		{"bad URL", url.Values{"url": {"ftp://files.example.com/in"}, "kinds": {"case.opened"}}, "url", `value="ftp://files.example.com/in"`},
		{"no events", url.Values{"url": {"https://hooks.example.com/x"}, "description": {"Kept"}}, "kinds", `value="Kept"`},
		{"internal address", url.Values{"url": {"http://100.100.100.200/latest/meta-data"}, "kinds": {"case.opened"}}, "url", "100.64.0.0/10"},
	} {
		resp, body := c.submit("/settings", "/settings/webhooks", tc.form)
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("%s: add = %d; want 422", tc.name, resp.StatusCode)
		}
		wantInPage(t, tc.name, body, `id="f-`+tc.field+`-error"`, tc.kept)
		if strings.Contains(body, `id="webhook-secret"`) {
			t.Errorf("%s: the answer shows a secret", tc.name)
		}
	}
	// What was ticked stays ticked.
	_, body := c.submit("/settings", "/settings/webhooks", url.Values{"url": {"not a url"}, "kinds": {"stage.changed"}})
	if !strings.Contains(body, `value="stage.changed" checked`) || strings.Contains(body, `value="moment.recorded" checked`) {
		t.Errorf("after an error the ticked events are not as sent")
	}
	if ws, _ := f.services.Webhooks.FindWebhooks(context.Background()); len(ws) != 0 {
		t.Errorf("invalid forms stored %d webhooks; want none", len(ws))
	}
}

func TestWebhookPauseResumeDelete(t *testing.T) {
	f := newFixture(t)
	c := f.signedIn(t, rapport.RoleAdmin)
	ctx := context.Background()
	wh := &rapport.Webhook{URL: "https://hooks.example.com/a", Kinds: []string{rapport.EventCaseOpened}, Active: true}
	if _, err := f.services.Webhooks.CreateWebhook(ctx, wh, ""); err != nil {
		t.Fatal(err)
	}
	page := "/settings/webhooks/" + wh.ID
	active := func() bool {
		t.Helper()
		got, err := f.services.Webhooks.FindWebhookByID(ctx, wh.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got.Active
	}

	resp, _ := c.submit("/settings", page+"/active", url.Values{"active": {"false"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/settings#webhooks" {
		t.Fatalf("pause = %d to %q; want 303 to /settings#webhooks", resp.StatusCode, resp.Header.Get("Location"))
	}
	if active() {
		t.Errorf("after pausing the webhook is active")
	}
	_, body := c.get("/settings")
	wantInPage(t, "settings with a paused webhook", body, "Paused", ">Resume</button>")

	resp, _ = c.submit(page, page+"/active", url.Values{"active": {"true"}, "back": {"webhook"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != page {
		t.Fatalf("resume = %d to %q; want 303 to %s", resp.StatusCode, resp.Header.Get("Location"), page)
	}
	if !active() {
		t.Errorf("after resuming the webhook is paused")
	}

	resp, _ = c.submit("/settings", page+"/delete", url.Values{})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("delete = %d; want 303", resp.StatusCode)
	}
	if resp, _ := c.get(page); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET %s after delete = %d; want 404", page, resp.StatusCode)
	}
}

func TestWebhookDeliveries(t *testing.T) {
	f := newFixture(t)
	c := f.signedIn(t, rapport.RoleAdmin)
	ctx := context.Background()
	wh := &rapport.Webhook{URL: "https://hooks.example.com/b", Kinds: []string{rapport.EventPromiseBroken}, Active: true}
	if _, err := f.services.Webhooks.CreateWebhook(ctx, wh, ""); err != nil {
		t.Fatal(err)
	}
	page := "/settings/webhooks/" + wh.ID
	_, body := c.get(page)
	wantInPage(t, "webhook page", body, "No deliveries yet", `id="webhook-test"`)

	resp, _ := c.submit(page, page+"/test", url.Values{})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != page {
		t.Fatalf("test ping = %d to %q; want 303 to %s", resp.StatusCode, resp.Header.Get("Location"), page)
	}
	_, body = c.get(page)
	wantInPage(t, "webhook page after a ping", body, `id="delivery-list"`, "<code>ping</code>", "Pending", "Test ping queued")

	// A paused endpoint takes no ping, and says so.
	paused := false
	if _, err := f.services.Webhooks.UpdateWebhook(ctx, wh.ID, rapport.WebhookUpdate{Active: &paused}); err != nil {
		t.Fatal(err)
	}
	c.submit(page, page+"/test", url.Values{})
	_, body = c.get(page)
	wantInPage(t, "paused webhook page after a ping", body, "The webhook is paused")
}

func TestTokenCreate(t *testing.T) {
	f := newFixture(t)
	c := f.signedIn(t, rapport.RoleAdmin)
	ctx := context.Background()

	resp, body := c.submit("/settings", "/settings/tokens", url.Values{"token_name": {""}, "token_role": {"agent"}})
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("token without a name = %d; want 422", resp.StatusCode)
	}
	wantInPage(t, "token form with an error", body, `id="f-token_name-error"`, `<option value="agent" selected>`)

	resp, body = c.submit("/settings", "/settings/tokens", url.Values{"token_name": {"prometheus"}, "token_role": {"viewer"}})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create a token = %d; want 201", resp.StatusCode)
	}
	secret := secretIn(body, "token-secret")
	p, err := f.services.Tokens.Authenticate(ctx, secret)
	if err != nil || p.Role != rapport.RoleViewer {
		t.Fatalf("the token shown authenticates as %v, %v; want a viewer", p, err)
	}
	_, body = c.get("/settings")
	if strings.Contains(body, secret) {
		t.Errorf("GET /settings shows the token again")
	}
	wantInPage(t, "settings with a token", body, "prometheus", "Viewer", "/settings/tokens/"+p.TokenID+"/revoke")

	resp, _ = c.submit("/settings", "/settings/tokens/"+p.TokenID+"/revoke", url.Values{})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke = %d; want 303", resp.StatusCode)
	}
	if _, err := f.services.Tokens.Authenticate(ctx, secret); rapport.ErrorCode(err) != rapport.EUNAUTHORIZED {
		t.Errorf("revoked token authenticates: %v; want EUNAUTHORIZED", err)
	}
	_, body = c.get("/settings")
	wantInPage(t, "settings with a revoked token", body, "Revoked")
}

func TestSettingsForbidden(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	wh := &rapport.Webhook{URL: "https://hooks.example.com/c", Kinds: []string{rapport.EventCaseOpened}, Active: true}
	if _, err := f.services.Webhooks.CreateWebhook(ctx, wh, ""); err != nil {
		t.Fatal(err)
	}
	tok := &rapport.Token{Name: "ci", Role: rapport.RoleAgent}
	if _, err := f.services.Tokens.CreateToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	hook := "/settings/webhooks/" + wh.ID
	for _, role := range []rapport.Role{rapport.RoleManager, rapport.RoleAgent, rapport.RoleViewer} {
		c := f.signedIn(t, role)
		_, home := c.get("/")
		if strings.Contains(home, `href="/settings"`) {
			t.Errorf("%s sees the Settings link", role)
		}
		for _, path := range []string{"/settings", hook} {
			if resp, _ := c.get(path); resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s GET %s = %d; want 403", role, path, resp.StatusCode)
			}
		}
		for _, path := range []string{"/settings/webhooks", hook + "/active", hook + "/test", hook + "/delete", "/settings/tokens", "/settings/tokens/" + tok.ID + "/revoke"} {
			resp, _ := c.submit("/", path, url.Values{"url": {"https://evil.example/"}, "kinds": {"case.opened"}, "active": {"false"}, "token_name": {"x"}, "token_role": {"admin"}})
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s POST %s = %d; want 403", role, path, resp.StatusCode)
			}
		}
	}
	ws, _ := f.services.Webhooks.FindWebhooks(ctx)
	ts, _ := f.services.Tokens.FindTokens(ctx)
	if len(ws) != 1 || !ws[0].Active || len(ts) != 1 || ts[0].RevokedAt != nil {
		t.Errorf("refused posts changed something: %d webhooks, %d tokens", len(ws), len(ts))
	}
}

func TestSettingsCSRF(t *testing.T) {
	f := newFixture(t)
	c := f.signedIn(t, rapport.RoleAdmin)
	ctx := context.Background()
	wh := &rapport.Webhook{URL: "https://hooks.example.com/d", Kinds: []string{rapport.EventCaseOpened}, Active: true}
	if _, err := f.services.Webhooks.CreateWebhook(ctx, wh, ""); err != nil {
		t.Fatal(err)
	}
	hook := "/settings/webhooks/" + wh.ID
	for _, path := range []string{"/settings/webhooks", hook + "/active", hook + "/test", hook + "/delete", "/settings/tokens"} {
		resp := c.post(path, url.Values{"url": {"https://hooks.example.com/e"}, "kinds": {"case.opened"}, "active": {"false"}, "token_name": {"x"}, "token_role": {"admin"}})
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("POST %s without a CSRF token = %d; want 403", path, resp.StatusCode)
		}
	}
	ws, _ := f.services.Webhooks.FindWebhooks(ctx)
	ts, _ := f.services.Tokens.FindTokens(ctx)
	if len(ws) != 1 || !ws[0].Active || len(ts) != 0 {
		t.Errorf("posts without a CSRF token changed something: %d webhooks (active %v), %d tokens", len(ws), len(ws) == 1 && ws[0].Active, len(ts))
	}
}
