package sqlstore

import (
	"context"
	"time"

	"github.com/rapport-crm/rapport/analytics"
)

// RecoveryFactsAsOf reads what became of the customers' recovery cases and
// promises as known at the date, as a refit does.
func RecoveryFactsAsOf(ctx context.Context, db *DB, ids []string, at time.Time) (map[string]*analytics.RecoveryFacts, error) {
	return queryRecoveryFacts(ctx, db.reader(), ids, at, false)
}

// RecoveryFactsNow reads them as scoring a customer today does.
func RecoveryFactsNow(ctx context.Context, db *DB, ids []string) (map[string]*analytics.RecoveryFacts, error) {
	return queryRecoveryFacts(ctx, db.reader(), ids, db.now(), true)
}
