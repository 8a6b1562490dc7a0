package sqlstore

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestMiseryListMatchesJSON(t *testing.T) {
	for _, list := range [][]storedMisery{
		{},
		{{Touchpoint: "closing", At: 1795711373000000}},
		{{Touchpoint: "service_visit_2", At: 1794501975403414}, {Touchpoint: "q", At: 0}, {Touchpoint: "old", At: -5}},
		{{Touchpoint: "Not <plain>", At: 7}}, // not Rapport's form: encoding/json writes it
	} {
		want, _ := json.Marshal(list)
		got := appendMiseryList(nil, list)
		if string(got) != string(want) {
			t.Errorf("appendMiseryList(%v) = %s, want %s", list, got, want)
		}
		back, err := parseMiseryList(string(got))
		if err != nil || !reflect.DeepEqual(back, list) {
			t.Errorf("parseMiseryList(%s) = %v, %v; want %v", got, back, err, list)
		}
	}
	for _, bad := range []string{"", "[", `[{"t":"a","at":1}`, `[{"t":"a","at":1},]`, `[{"t":"a","at":01}]`, "nonsense"} {
		if _, err := parseMiseryList(bad); err == nil {
			t.Errorf("parseMiseryList(%q) accepted broken text", bad)
		}
	}
}

// Whatever the stored text, the list read is what encoding/json reads, and
// an error where it finds one.
func FuzzParseMiseryList(f *testing.F) {
	for _, s := range []string{`[]`, `null`, `[{"t":"closing","at":1795711373000000},{"t":"query","at":-1}]`,
		`[ {"at": 5, "t": "x"} ]`, `[{"t":"a\u0062","at":9223372036854775807}]`, `[{"t":"a","at":92233720368547758070}]`,
		`[{"t":"a","at":1.5}]`, `[{"t":"a","at":-0}]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var want []storedMisery
		wantErr := json.Unmarshal([]byte(s), &want)
		got, err := parseMiseryList(s)
		if (err != nil) != (wantErr != nil) {
			t.Fatalf("parseMiseryList(%q) error = %v, encoding/json's = %v", s, err, wantErr)
		}
		if err == nil && !reflect.DeepEqual(got, want) && !(len(got) == 0 && len(want) == 0) {
			t.Fatalf("parseMiseryList(%q) = %v, encoding/json reads %v", s, got, want)
		}
		if err == nil && got != nil {
			again, err := parseMiseryList(string(appendMiseryList(nil, got)))
			if err != nil || !reflect.DeepEqual(again, got) && !(len(again) == 0 && len(got) == 0) {
				t.Fatalf("written and read again, %v became %v (%v)", got, again, err)
			}
		}
	})
}
