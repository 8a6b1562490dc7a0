package sqlstore

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestMiseryTalliesStoredForm(t *testing.T) {
	var ts miseryTallies
	ts.add("complaint", 1795711373000000)
	ts.add("complaint", 1794501975403414)
	ts.add("service_visit_2", 1790000000000001)
	got := string(appendMiseryTallies(nil, ts))
	want := `[{"t":"complaint","n":2,"s":3590213348,"l":1795711373000000,"o":1794501975403414},` +
		`{"t":"service_visit_2","n":1,"s":1790000000,"l":1790000000000001,"o":1790000000000001}]`
	if got != want {
		t.Fatalf("stored form = %s\nwant %s", got, want)
	}
	if back, err := parseMiseryTallies(got); err != nil || !reflect.DeepEqual(back, ts) {
		t.Errorf("read back = %v, %v; want %v", back, err, ts)
	}
	// What encoding/json makes of the same tallies reads the same.
	var list []storedTally
	if err := json.Unmarshal([]byte(got), &list); err != nil || len(list) != 2 || list[0].N != 2 {
		t.Errorf("encoding/json reads %+v, %v", list, err)
	}
	// A list of single moments, as stored before tallies, reads as tallies.
	old := `[{"t":"complaint","at":1795711373000000},{"t":"service_visit_2","at":1790000000000001},{"t":"complaint","at":1794501975403414}]`
	if back, err := parseMiseryTallies(old); err != nil || !reflect.DeepEqual(back, ts) {
		t.Errorf("the old list read as %v, %v; want %v", back, err, ts)
	}
	// Keys Rapport would not write go through encoding/json both ways.
	odd := miseryTallies{}
	odd.add(`Not "plain"`, 7_000_000)
	if back, err := parseMiseryTallies(string(appendMiseryTallies(nil, odd))); err != nil || !reflect.DeepEqual(back, odd) {
		t.Errorf("an odd key read back as %v, %v; want %v", back, err, odd)
	}
	for _, bad := range []string{"", "[", `[{"t":"a","n":1,"s":1,"l":1,"o":1}`, `[{"t":"a","n":1,"s":1,"l":1,"o":1},]`, "nonsense"} {
		if _, err := parseMiseryTallies(bad); err == nil {
			t.Errorf("parseMiseryTallies(%q) accepted broken text", bad)
		}
	}
}

// Whatever the stored text, the fast reading agrees with encoding/json's,
// and what is written reads back the same.
func FuzzParseMiseryTallies(f *testing.F) {
	for _, s := range []string{`[]`, `null`, `[{"t":"closing","n":2,"s":3591422746,"l":1795711373000000,"o":1794501975403414}]`,
		`[{"t":"a","at":5},{"t":"a","n":3,"s":9,"l":8,"o":-1}]`, `[{"t":"a","n":01,"s":1,"l":1,"o":1}]`,
		`[{"t":"a","n":1,"s":92233720368547758070,"l":1,"o":1}]`, `[ {"t":"a","n":1} ]`, `[{"t":"a","n":0,"s":1,"l":1,"o":1}]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fast, ok := parsePlainMiseryTallies(s)
		if !ok {
			return
		}
		var list []storedTally
		if err := json.Unmarshal([]byte(s), &list); err != nil {
			t.Fatalf("%q read by the fast path, refused by encoding/json: %v", s, err)
		}
		slow := miseryTallies{}
		for _, e := range list {
			slow.merge(e.T, miseryTally{n: e.N, sumSeconds: e.S, latest: e.L, oldest: e.O})
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("%q: fast path %v, encoding/json %v", s, fast, slow)
		}
		again, err := parseMiseryTallies(string(appendMiseryTallies(nil, fast)))
		if err != nil || !reflect.DeepEqual(again, fast) {
			t.Fatalf("written and read again, %v became %v (%v)", fast, again, err)
		}
	})
}
