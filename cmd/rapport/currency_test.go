package main

import "testing"

func TestCurrencyOfLocale(t *testing.T) {
	for _, tt := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"LANG": "en_GB.UTF-8"}, "GBP"},
		{map[string]string{"LANG": "de_DE@euro"}, "EUR"},
		{map[string]string{"LANG": "en_GB.UTF-8", "LC_MONETARY": "en_US.UTF-8"}, "USD"},
		{map[string]string{"LC_ALL": "fr_CH.UTF-8", "LC_MONETARY": "en_US.UTF-8", "LANG": "en_GB"}, "CHF"},
		{map[string]string{"LANG": "C.UTF-8"}, ""},
		{map[string]string{"LANG": "xx_ZZ"}, ""},
		{map[string]string{}, ""},
	} {
		if got := currencyOfLocale(func(k string) string { return tt.env[k] }); got != tt.want {
			t.Errorf("currencyOfLocale(%v) = %q; want %q", tt.env, got, tt.want)
		}
	}
}

func TestCheckCurrency(t *testing.T) {
	for in, want := range map[string]string{"gbp": "GBP", " EUR ": "EUR", "": ""} {
		if got, err := checkCurrency(in); err != nil || got != want {
			t.Errorf("checkCurrency(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"£", "EURO", "E1R", "US"} {
		if _, err := checkCurrency(in); err == nil {
			t.Errorf("checkCurrency(%q) took it; want it refused", in)
		}
	}
}
