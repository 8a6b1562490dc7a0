package main

import (
	"fmt"
	"strings"
)

// currencies are the currencies of the countries a locale names, for the
// default of --currency.
var currencies = map[string]string{
	"GB": "GBP", "US": "USD", "CA": "CAD", "AU": "AUD", "NZ": "NZD", "IE": "EUR", "DE": "EUR", "FR": "EUR",
	"ES": "EUR", "IT": "EUR", "NL": "EUR", "BE": "EUR", "AT": "EUR", "PT": "EUR", "FI": "EUR", "GR": "EUR",
	"LU": "EUR", "CH": "CHF", "SE": "SEK", "NO": "NOK", "DK": "DKK", "PL": "PLN", "CZ": "CZK", "JP": "JPY",
	"IN": "INR", "BR": "BRL", "MX": "MXN", "AR": "ARS", "CL": "CLP", "CO": "COP", "ZA": "ZAR", "SG": "SGD",
}

// currencyOfLocale is the currency of the country the environment's locale
// names ("en_GB.UTF-8" is GBP), looked up as the C library does: LC_ALL,
// then LC_MONETARY, then LANG; "" when none names a known country.
func currencyOfLocale(getenv func(string) string) string {
	for _, name := range []string{"LC_ALL", "LC_MONETARY", "LANG"} {
		locale := getenv(name)
		if locale == "" {
			continue
		}
		_, country, ok := strings.Cut(locale, "_")
		if !ok {
			return ""
		}
		country, _, _ = strings.Cut(country, ".")
		country, _, _ = strings.Cut(country, "@")
		return currencies[strings.ToUpper(country)]
	}
	return ""
}

// checkCurrency reads a currency code: three letters, as ISO 4217 writes
// them; empty is none.
func checkCurrency(code string) (string, error) {
	code = strings.ToUpper(strings.TrimSpace(code))
	if code == "" {
		return "", nil
	}
	if len(code) != 3 || strings.Trim(code, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
		return "", fmt.Errorf("%q is not a currency code; give three letters such as GBP, EUR or USD", code)
	}
	return code, nil
}
