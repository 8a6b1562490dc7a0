package sqlstore

// This file is the one place that says what follows from a change to
// moments. Every route that adds, changes or removes moments goes through
// applyMomentChange, in the transaction that makes the change, so nothing
// derived can disagree with what was acknowledged:
//
//	added:   the API (one moment or a batch) and the web form   MomentService.record (groupcommit.go)
//	         a CSV import                                        ImportService.ImportMoments
//	         the misery moment of a broken promise               recordBrokenPromises
//	changed: a customer's survey answer                          SurveyService.AnswerSurvey
//	removed: a customer deleted, with their moments              CustomerService.DeleteCustomer
//
// A bulk load (the demo firm) writes moments directly for speed and then
// derives everything once with RebuildFromMoments, which lists the same
// consequences in the same order. A new derived thing adds one step to
// applyMomentChange and one to RebuildFromMoments, and the equivalence test
// (pipeline_test.go) proves the routes and the rebuild agree.
//
// Erasing a customer (ErasureService.EraseCustomer) does not pass through
// here: it clears moments' notes and external ids, which no step reads, and
// changes none of their figures (TestEraseKeepsFigures).

import (
	"context"
	"database/sql"
	"slices"
	"time"

	"github.com/rapport-crm/rapport"
)

// momentChange is one transaction's change to moments.
type momentChange struct {
	source  rapport.MomentSource
	added   []*rapport.Moment // stored already
	changed []momentEdit      // stored already, as after
	removed []*rapport.Moment // about to be deleted
}

// momentEdit is a moment as it was and as it is now. A change keeps the
// moment's customer, touchpoint, day, channel and response.
type momentEdit struct{ before, after *rapport.Moment }

// applyMomentChange brings everything derived from moments up to date with
// a change, in order, inside the change's transaction.
func applyMomentChange(ctx context.Context, tx *tx, c momentChange) error {
	if len(c.added) == 0 && len(c.changed) == 0 && len(c.removed) == 0 {
		return nil
	}
	unpin, err := tx.pinSettings(ctx)
	if err != nil {
		return err
	}
	defer unpin()
	deltas := c.deltas()
	// 1. Each customer's daily totals, which outcomes and segments read, and
	// the tally of who served them, which the brief reads: an added moment's
	// figures are added, a changed one's old figures replaced by its new
	// ones, a removed one's taken away.
	if err := addCustomerDays(ctx, tx, deltas); err != nil {
		return err
	}
	if err := addCustomerStaff(ctx, tx, deltas); err != nil {
		return err
	}
	// 2. Each customer's totals by touchpoint and response, which
	// suggestions read (and the sweep adds up by group of customers).
	if err := addCustomerResponseStats(ctx, tx, deltas); err != nil {
		return err
	}
	// 3. Recovery cases: an added misery moment opens one when it is recent
	// enough for the policy; a changed moment that is misery now opens one
	// however old it is, since the customer is unhappy now (once: a moment
	// has one case at most). A removed moment's case is deleted with its
	// customer.
	if err := openCasesFor(ctx, tx, c); err != nil {
		return err
	}
	// 4. The measures of every customer whose moments were added or changed
	// (health, risk, recent figures), and the stage rules run on them; after
	// the cases, since a customer's open cases weigh in their risk.
	// Removed moments go with their customer, whose measures go too; the
	// customer's referrer is measured again by DeleteCustomer.
	if err := measureCustomers(ctx, tx, c); err != nil {
		return err
	}
	// 5. What each recovery case's customer did after the misery moment (the
	// next moment, a purchase), and the resolved cases' counts by day, which
	// the recovery report reads; after the measures, which hold the
	// customers, so that no other change works out their cases at once.
	if err := followCases(ctx, tx, c); err != nil {
		return err
	}
	// 6. The webhook outbox: moment.recorded for each added moment,
	// moment.misery for each added misery moment and each moment a change
	// made misery. Removing a customer's moments raises no moment event.
	if err := enqueueMomentEvents(ctx, tx, c.added, c.madeMisery()); err != nil {
		return err
	}
	// 7. Survey invitations: an added moment whose touchpoint's survey policy
	// asks for it invites its customer by email, through the email outbox.
	// A changed or removed moment invites nobody.
	if err := inviteToSurveys(ctx, tx, c, tx.email); err != nil {
		return err
	}
	// 8. The running totals per touchpoint, day, channel and response, which
	// the touchpoint reports and the five-step loop read, in the same way as
	// the customers' in step 1. Every moment of a day at a touchpoint adds to
	// the same few rows, so on PostgreSQL concurrent transactions queue for
	// them until each commits: the step comes last, so that they queue only
	// for the commit and not for everything else a change does.
	if err := addMomentStats(ctx, tx, deltas); err != nil {
		return err
	}
	// 9. Once the transaction commits, the metrics count the added moments
	// by their route; a rolled-back change counts nothing.
	if n := len(c.added); n > 0 && tx.observe != nil {
		source, observe := c.source, tx.observe
		tx.onCommit(func() { observe(source, n) })
	}
	return nil
}

// signedMoment is a moment whose figures are added (+1) to or taken away
// (-1) from the totals.
type signedMoment struct {
	m    *rapport.Moment
	sign int
}

// deltas are the change's moments as they move the totals.
func (c momentChange) deltas() []signedMoment {
	out := make([]signedMoment, 0, len(c.added)+2*len(c.changed)+len(c.removed))
	for _, m := range c.added {
		out = append(out, signedMoment{m, 1})
	}
	for _, e := range c.changed {
		out = append(out, signedMoment{e.before, -1}, signedMoment{e.after, 1})
	}
	for _, m := range c.removed {
		out = append(out, signedMoment{m, -1})
	}
	return out
}

// madeMisery are the changed moments that were not misery and are now.
func (c momentChange) madeMisery() []*rapport.Moment {
	var out []*rapport.Moment
	for _, e := range c.changed {
		if e.after.Outcome == rapport.OutcomeMisery && e.before.Outcome != rapport.OutcomeMisery {
			out = append(out, e.after)
		}
	}
	return out
}

// measureCustomers is step 4. Customers with added moments add them to
// their stored figures where those are current; customers with changed
// moments are measured afresh.
func measureCustomers(ctx context.Context, tx *tx, c momentChange) error {
	if len(c.added) > 0 {
		byCustomer := map[string][]*rapport.Moment{}
		var ids []string
		for _, m := range c.added {
			if byCustomer[m.CustomerID] == nil {
				ids = append(ids, m.CustomerID)
			}
			byCustomer[m.CustomerID] = append(byCustomer[m.CustomerID], m)
		}
		if tx.measureLater {
			if err := makeDue(ctx, tx, ids); err != nil {
				return err
			}
		} else if _, err := refreshCustomersWith(ctx, tx, ids, true, byCustomer); err != nil {
			return err
		}
	}
	if len(c.changed) > 0 {
		ids := make([]string, len(c.changed))
		for i, e := range c.changed {
			ids[i] = e.after.CustomerID
		}
		if _, err := refreshCustomers(ctx, tx, ids, true); err != nil {
			return err
		}
	}
	return nil
}

// openCasesFor is step 3.
func openCasesFor(ctx context.Context, tx *tx, c momentChange) error {
	if err := openRecoveryCases(ctx, tx, c.added); err != nil {
		return err
	}
	var misery []*rapport.Moment
	for _, e := range c.changed {
		if e.after.Outcome == rapport.OutcomeMisery {
			misery = append(misery, e.after)
		}
	}
	if len(misery) > 0 {
		if _, err := openCases(ctx, tx, misery, caseOpening{anyAge: true}); err != nil {
			return err
		}
	}
	return nil
}

// addMoments stores new moments and what follows from them. The moments
// are valid, their references checked, and their ids and recording times set.
func addMoments(ctx context.Context, tx *tx, source rapport.MomentSource, ms []*rapport.Moment) error {
	for start := 0; start < len(ms); start += insertChunk {
		if err := insertMoments(ctx, tx, ms[start:min(start+insertChunk, len(ms))]); err != nil {
			return err
		}
	}
	return applyMomentChange(ctx, tx, momentChange{source: source, added: ms})
}

// changeMoment stores a moment's new rating, effort, NPS, notes and outcome
// and what follows from them.
func changeMoment(ctx context.Context, tx *tx, before, after *rapport.Moment) error {
	if _, err := tx.exec(ctx, `UPDATE moments SET rating = ?, effort = ?, nps = ?, notes = ?, outcome = ?, outcome_source = ? WHERE id = ?`,
		nullInt(after.Rating), nullInt(after.Effort), nullInt(after.NPS), after.Notes, string(after.Outcome), after.OutcomeSource,
		after.ID); err != nil {
		return err
	}
	return applyMomentChange(ctx, tx, momentChange{changed: []momentEdit{{before, after}}})
}

// removeCustomerMoments takes a customer's moments out of everything
// derived from them; deleting the customer then deletes the moments.
func removeCustomerMoments(ctx context.Context, tx *tx, customerID string) error {
	var ms []*rapport.Moment
	err := eachRow(ctx, tx.querier, `SELECT `+momentColumns+` FROM moments WHERE customer_id = ?`, []any{customerID},
		func(rows *sql.Rows) error {
			m, err := scanMoment(rows)
			ms = append(ms, m)
			return err
		})
	if err != nil {
		return err
	}
	if err := applyMomentChange(ctx, tx, momentChange{removed: ms}); err != nil {
		return err
	}
	// Totals that no moment is left in are gone, as a rebuild leaves them.
	_, err = tx.exec(ctx, `DELETE FROM moment_stats WHERE moments = 0`)
	return err
}

// Rebuild says how RebuildFromMoments treats what a bulk load brought.
type Rebuild struct {
	// InferStages runs the stage rules on every customer, as recording
	// does. A load that writes each customer's stage history (the demo firm)
	// leaves it off, and the sweep applies the rules as customers fall due.
	InferStages bool
	// OpenCasesSince: misery moments since then open recovery cases, each
	// opened when its moment was recorded.
	OpenCasesSince time.Time
}

// RebuildFromMoments derives everything from the stored moments afresh, in
// the order of applyMomentChange, for after a bulk load that wrote moments
// directly: the running totals (and the measured impact of misery, which
// the sweep keeps and the measures weigh), each customer's daily totals and
// measures, and the recovery cases. The outboxes are left alone: a load is
// history, webhooks hear of what happens from now on, and nobody is invited
// to a survey about it.
func (db *DB) RebuildFromMoments(ctx context.Context, how Rebuild) error {
	if err := db.RebuildMomentStats(ctx); err != nil {
		return err
	}
	if err := db.inTx(ctx, func(tx *tx) error { return rebuildCustomerResponseStats(ctx, tx) }); err != nil {
		return err
	}
	if err := NewSuggestionService(db).RefreshSuggestionGroups(ctx); err != nil {
		return err
	}
	if err := NewReportService(db).RefreshImpact(ctx); err != nil {
		return err
	}
	// Cases before measures, as in applyMomentChange.
	if _, err := NewRecoveryService(db).OpenMissingCases(ctx, how.OpenCasesSince); err != nil {
		return err
	}
	if err := db.rebuildCustomerMeasures(ctx, how.InferStages); err != nil {
		return err
	}
	// After the measures, whose stage rules may dissolve customers.
	return db.inTx(ctx, func(tx *tx) error { return rebuildCaseFacts(ctx, tx) })
}

// sortedKeys returns a map's keys in order, so that concurrent writers on
// PostgreSQL take row locks in the same order and cannot deadlock.
func sortedKeys[K comparable, V any](m map[K]V, cmp func(a, b K) int) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, cmp)
	return keys
}
