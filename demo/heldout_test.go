package demo_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rapport-crm/rapport/demo"
	"github.com/rapport-crm/rapport/sqlstore"
)

// TestPatternsOnHeldOutSeed makes the demo firm from a seed none of its
// planted patterns were tried on (11, or those RAPPORT_DEMO_SEEDS lists,
// e.g. "11,12,13"), and checks the offers and handovers with the truth the
// generator planted: the family upgrade's uplift found with the revenue
// interval holding it, the newsletter gift given no verdict, and handovers
// to Ravi named for the misery that followed, no one else.
func TestPatternsOnHeldOutSeed(t *testing.T) {
	if testing.Short() {
		t.Skip("the default-size firm takes seconds to make")
	}
	seeds := []int64{11}
	if v := os.Getenv("RAPPORT_DEMO_SEEDS"); v != "" {
		seeds = nil
		for _, f := range strings.Split(v, ",") {
			n, err := strconv.ParseInt(strings.TrimSpace(f), 10, 64)
			if err != nil {
				t.Fatalf("RAPPORT_DEMO_SEEDS = %q: %v", v, err)
			}
			seeds = append(seeds, n)
		}
	}
	for _, seed := range seeds {
		t.Run(fmt.Sprintf("seed %d", seed), func(t *testing.T) {
			dsn := filepath.Join(t.TempDir(), "heldout.db")
			db, err := sqlstore.Open(context.Background(), dsn, func() time.Time { return now })
			if err != nil {
				t.Fatal(err)
			}
			s, err := demo.Populate(context.Background(), db, demo.Config{Seed: seed, Now: now})
			db.Close()
			if err != nil {
				t.Fatalf("Populate(seed %d) = %v", seed, err)
			}
			t.Logf("held-out firm: %s", s)
			t.Run("offers", func(t *testing.T) { checkOffers(t, dsn) })
			t.Run("handovers", func(t *testing.T) { checkHandovers(t, dsn) })
		})
	}
}
