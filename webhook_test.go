package rapport_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/rapport-crm/rapport"
)

func TestVerifyWebhook(t *testing.T) {
	const secret = "whsec_the-endpoints-own-secret"
	at := time.Date(2026, 11, 24, 10, 15, 0, 0, time.UTC)
	body := []byte(`{"id":"01KAH4B7E2N5P9S3TQW8XYZ6GF","kind":"ping","data":{}}`)
	sig := rapport.SignWebhook(secret, at, body)
	// Worked out with openssl: printf '%s' "1795515300.$body" | openssl dgst -sha256 -hmac "$secret"
	if want := "t=1795515300,v1=8bd24dc78412fd70b09f81be1f0311e10eac993ac6fad57fd39443802acd9152"; sig != want {
		t.Fatalf("SignWebhook = %q; want %q", sig, want)
	}
	tests := []struct {
		name   string
		secret string
		header string
		body   []byte
		now    time.Time
		want   error
	}{
		{"as signed", secret, sig, body, at, nil},
		{"a little later", secret, sig, body, at.Add(4 * time.Minute), nil},
		{"with a second, unknown signature", secret, sig + ",v1=00ff", body, at, nil},
		{"another secret", "whsec_someone-elses-secret", sig, body, at, rapport.ErrBadSignature},
		{"body changed", secret, sig, append(slices.Clone(body), ' '), at, rapport.ErrBadSignature},
		{"time changed", secret, rapport.SignWebhook(secret, at, body)[len("t=1795515300"):] + ",t=1795515301", body, at, rapport.ErrBadSignature},
		{"no signature", secret, "t=1795515300", body, at, rapport.ErrBadSignature},
		{"empty", secret, "", body, at, rapport.ErrBadSignature},
		{"replayed an hour later", secret, sig, body, at.Add(time.Hour), rapport.ErrStaleSignature},
	}
	for _, tt := range tests {
		if err := rapport.VerifyWebhook(tt.secret, tt.header, tt.body, tt.now, 5*time.Minute); !errors.Is(err, tt.want) {
			t.Errorf("%s: VerifyWebhook = %v; want %v", tt.name, err, tt.want)
		}
	}
}

func TestWebhookValidate(t *testing.T) {
	tests := []struct {
		url        string
		kinds      []string
		wantFields []string
		wantKinds  []string
	}{
		{"https://example.com/hook", []string{"stage.changed", "moment.recorded", "stage.changed"}, nil, []string{"moment.recorded", "stage.changed"}},
		{"http://127.0.0.1:9000/rapport?source=crm", []string{"case.opened"}, nil, []string{"case.opened"}},
		{"  https://example.com/hook  ", []string{"promise.broken"}, nil, []string{"promise.broken"}},
		{"", nil, []string{"url", "kinds"}, nil},
		{"example.com/hook", []string{"ping"}, []string{"url", "kinds"}, nil},
		{"ftp://example.com/hook", []string{"moment.misery"}, []string{"url"}, nil},
		{"https://example.com/hook#part", []string{"moment.misery"}, []string{"url"}, nil},
		{"https:///hook", []string{"moment.misery"}, []string{"url"}, nil},
	}
	for _, tt := range tests {
		w := &rapport.Webhook{URL: tt.url, Kinds: tt.kinds}
		var got []string
		for _, f := range rapport.ErrorFields(w.Validate()) {
			got = append(got, f.Field)
		}
		if !slices.Equal(got, tt.wantFields) {
			t.Errorf("Validate(%q, %q) fields = %q; want %q", tt.url, tt.kinds, got, tt.wantFields)
		}
		if tt.wantFields == nil && !slices.Equal(w.Kinds, tt.wantKinds) {
			t.Errorf("Validate(%q, %q) kinds = %q; want %q", tt.url, tt.kinds, w.Kinds, tt.wantKinds)
		}
	}
	for _, s := range []string{"short", " padded-secret-of-length ", string(make([]byte, 201))} {
		if err := rapport.ValidateWebhookSecret(s); rapport.ErrorCode(err) != rapport.EINVALID {
			t.Errorf("ValidateWebhookSecret(%q) = %v; want invalid", s, err)
		}
	}
}
