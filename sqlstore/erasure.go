package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"math"
	"time"

	"github.com/rapport-crm/rapport"
)

// ErasureService erases one person's personal data and exports all of it.
type ErasureService struct {
	db *DB
	// imports, when set, are the import jobs whose kept error reports an
	// erasure removes.
	imports *ImportService
}

// NewErasureService returns erasure and export over db.
func NewErasureService(db *DB) *ErasureService { return &ErasureService{db: db} }

// NewErasureServiceWith is NewErasureService for a server whose import jobs
// keep their files as files says: an erasure removes the error reports kept
// of the jobs that have ended, since they hold rows as files had them.
func NewErasureServiceWith(db *DB, files ImportFiles) *ErasureService {
	return &ErasureService{db: db, imports: NewImportServiceWith(db, files)}
}

var _ rapport.ErasureService = (*ErasureService)(nil)

// EraseCustomer removes a customer's personal data everywhere; see
// rapport.ErasureService. The moments stay with their figures, so nothing
// derived changes: the pipeline's steps (pipeline.go) read a moment's
// customer, touchpoint, times, channel, response, ratings, outcome, revenue
// and cost, and never its notes or external id, which are all erasing
// clears; TestEraseKeepsFigures compares every derived table before and
// after.
func (s *ErasureService) EraseCustomer(ctx context.Context, id string) (*rapport.Customer, error) {
	var c *rapport.Customer
	err := s.db.inTx(ctx, func(tx *tx) error {
		// Whatever is being added to the customer as they are erased
		// finishes first, and is erased too, or waits and is refused.
		var err error
		if c, err = findCustomerLocked(ctx, tx.querier, id, tx.d.updateLock); err != nil {
			return err
		}
		// A staff digest not sent yet lists notifications' titles, which
		// may name the customer: it goes, and the next one is made afresh.
		if c.ErasedAt == nil && c.Name != "" {
			if _, err := tx.exec(ctx, `DELETE FROM email_outbox WHERE kind = ? AND status = ? AND (text_body LIKE ? OR html_body LIKE ?)`,
				rapport.NotifyDigest, rapport.EmailPending, "%"+c.Name+"%", "%"+html.EscapeString(c.Name)+"%"); err != nil {
				return err
			}
		}
		c.Erase(tx.now.Truncate(time.Microsecond))
		c.UpdatedAt = tx.now.Truncate(time.Microsecond)
		attrs, prefs := marshalCustomerDocs(c)
		if _, err := tx.exec(ctx, `UPDATE customers SET external_id = NULL, name = ?, email = '', phone = '',
			attributes = ?, preferences = ?, search = ?, erased_at = ?, updated_at = ? WHERE id = ?`,
			c.Name, attrs, prefs, searchText(c), micros(*c.ErasedAt), micros(c.UpdatedAt), id); err != nil {
			return err
		}
		// Only rows holding text are rewritten: the fewer pages a large
		// customer's erasure touches, the sooner it is done.
		for _, q := range []string{
			`UPDATE moments SET notes = '', external_id = NULL WHERE customer_id = ? AND (notes <> '' OR external_id IS NOT NULL)`,
			`UPDATE promises SET text = '' WHERE customer_id = ? AND text <> ''`,
			`UPDATE recovery_cases SET resolution = '' WHERE customer_id = ? AND resolution <> ''`,
			`UPDATE case_actions SET text = '' WHERE text <> '' AND case_id IN (SELECT id FROM recovery_cases WHERE customer_id = ?)`,
			`UPDATE survey_links SET comment = '' WHERE customer_id = ? AND comment <> ''`,
			// What the previous owner wrote for the next one.
			`UPDATE handovers SET note = '' WHERE customer_id = ? AND note <> ''`,
			// Links not answered yet would let new words in.
			`DELETE FROM survey_links WHERE customer_id = ? AND answered_at IS NULL`,
			// The reasons people typed when they set a stage by hand; the
			// first stage's reason is Rapport's own word.
			`UPDATE stage_changes SET reason = '' WHERE customer_id = ? AND reason <> '' AND reason <> '` + rapport.StageReasonCreated + `'`,
		} {
			if _, err := tx.exec(ctx, q, id); err != nil {
				return err
			}
		}
		if err := forgetDeliveries(ctx, tx, id); err != nil {
			return err
		}
		// Who erased whom, and when: the entry holds no personal data.
		if err := audit(ctx, tx, rapport.AuditErase, "customer", id, nil, nil); err != nil {
			return err
		}
		// Names no customer in its row, so that a later erasure of the same
		// customer leaves it be.
		return enqueue(ctx, tx, rapport.EventCustomerErased, []rapport.CustomerErased{{CustomerID: id, ErasedAt: *c.ErasedAt}})
	})
	if err != nil {
		return nil, err
	}
	if s.imports != nil {
		if err := s.imports.forgetReports(ctx); err != nil {
			return nil, err
		}
	}
	return c, s.db.truncateLog(ctx)
}

// forgetDeliveries removes the webhook deliveries that tell of a customer,
// sent or not: their bodies carry the customer's notes and texts. Those
// written before deliveries named their customer are found by their body.
func forgetDeliveries(ctx context.Context, tx *tx, customerID string) error {
	_, err := tx.exec(ctx, `DELETE FROM webhook_deliveries WHERE customer_id = ?`, customerID)
	if err != nil {
		return err
	}
	_, err = tx.exec(ctx, `DELETE FROM webhook_deliveries WHERE customer_id IS NULL AND payload LIKE ?`,
		`%"customer_id":"`+customerID+`"%`)
	if err != nil {
		return err
	}
	// Emails to or about the customer carry their address and name.
	if _, err = tx.exec(ctx, `DELETE FROM email_outbox WHERE customer_id = ?`, customerID); err != nil {
		return err
	}
	// So do staff's notifications about them.
	_, err = tx.exec(ctx, `DELETE FROM notifications WHERE customer_id = ?`, customerID)
	return err
}

// truncateLog moves SQLite's write-ahead log into the database and empties
// it, so that the old versions of pages just rewritten do not linger in
// the log file until later writes overwrite them. secure_delete (see
// sqliteDSN) has already zeroed what was removed from the pages themselves.
// Readers still in the log make it wait, up to the busy timeout; when they
// outlast that, the log is emptied by a later erasure or left to be
// overwritten. PostgreSQL keeps old row versions until VACUUM reclaims them
// (docs/privacy.md).
func (db *DB) truncateLog(ctx context.Context) error {
	if db.dialect.name != "sqlite" {
		return nil
	}
	var busy, logFrames, checkpointed int
	return db.write.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logFrames, &checkpointed)
}

// ExportCustomer writes everything held on a customer as one JSON document;
// see rapport.ErasureService. It reads in one transaction, so the document
// is the customer as they stood at one moment, and streams the moments.
func (s *ErasureService) ExportCustomer(ctx context.Context, id string, w io.Writer) error {
	opts := &sql.TxOptions{ReadOnly: true}
	if s.db.dialect.name == "postgres" {
		// One snapshot for every statement, as SQLite's read transaction has.
		opts.Isolation = sql.LevelRepeatableRead
	} else {
		opts = nil
	}
	sqlTx, err := s.db.read.BeginTx(ctx, opts)
	if err != nil {
		return err
	}
	defer sqlTx.Rollback()
	q := querier{q: sqlTx, d: s.db.dialect}
	e, err := s.exportHead(ctx, q, id)
	if err != nil {
		return err
	}
	// Everything but the moments, then the moments one by one into the
	// array the head ends with.
	head, err := json.Marshal(e)
	if err != nil {
		return err
	}
	const tail = `"moments":null}`
	if len(head) < len(tail) || string(head[len(head)-len(tail):]) != tail {
		return fmt.Errorf("export: moments are not last in %T", e)
	}
	if _, err := w.Write(append(head[:len(head)-len(tail)], `"moments":[`...)); err != nil {
		return err
	}
	first := true
	err = eachRow(ctx, q, `SELECT `+momentColumns+` FROM moments WHERE customer_id = ? ORDER BY occurred_at, id`, []any{id},
		func(rows *sql.Rows) error {
			m, err := scanMoment(rows)
			if err != nil {
				return err
			}
			b, err := json.Marshal(m)
			if err != nil {
				return err
			}
			if !first {
				b = append([]byte{','}, b...)
			}
			first = false
			_, err = w.Write(b)
			return err
		})
	if err != nil {
		return err
	}
	_, err = io.WriteString(w, "]}\n")
	return err
}

// exportHead reads everything held on a customer but their moments.
func (s *ErasureService) exportHead(ctx context.Context, q querier, id string) (*rapport.CustomerExport, error) {
	now := s.db.now()
	c, err := findCustomer(ctx, q, id)
	if err != nil {
		return nil, err
	}
	e := &rapport.CustomerExport{ExportedAt: now.Truncate(time.Microsecond), Customer: c}
	args := []any{id}
	if e.Holdings, err = collect(ctx, q, `SELECT `+holdingColumns+` FROM holdings WHERE customer_id = ? ORDER BY started_at, id`,
		args, scanHolding); err != nil {
		return nil, err
	}
	if e.StageChanges, err = collect(ctx, q, `SELECT `+stageChangeColumns+` FROM stage_changes WHERE customer_id = ?
		ORDER BY changed_at, id`, args, scanStageChange); err != nil {
		return nil, err
	}
	if e.Handovers, err = findHandovers(ctx, q, id, math.MaxInt32); err != nil {
		return nil, err
	}
	if e.Referrals, err = findReferrals(ctx, q, c); err != nil {
		return nil, err
	}
	if e.Segments, err = s.db.segmentsOf(ctx, q, id); err != nil {
		return nil, err
	}
	if e.Promises, err = collect(ctx, q, `SELECT `+promiseColumns+` FROM promises WHERE customer_id = ? ORDER BY created_at, id`,
		args, scanPromise); err != nil {
		return nil, err
	}
	if e.Cases, err = customerCases(ctx, q, id, now); err != nil {
		return nil, err
	}
	if e.SurveyLinks, err = collect(ctx, q, `SELECT id, moment_id, customer_id, created_at, expires_at, answered_at
		FROM survey_links WHERE customer_id = ? ORDER BY created_at, id`, args, scanSurveyLink); err != nil {
		return nil, err
	}
	if e.Surveys, err = collect(ctx, q, surveyResponseSelect+` WHERE l.customer_id = ? AND l.answered_at IS NOT NULL
		ORDER BY l.answered_at, l.id`, args, scanSurveyResponse); err != nil {
		return nil, err
	}
	if e.Emails, err = collect(ctx, q, emailRecordSelect+` WHERE customer_id = ? ORDER BY created_at, id`, args,
		scanEmailRecord); err != nil {
		return nil, err
	}
	var optedOut sql.NullInt64
	if err := q.queryRow(ctx, `SELECT opted_out_at FROM email_opt_outs WHERE customer_id = ?`, id).Scan(&optedOut); err != nil && err != sql.ErrNoRows {
		return nil, err
	}
	e.OptedOutAt = timePtr(optedOut)
	e.Offers = []rapport.ExportedOffer{}
	err = eachRow(ctx, q, `SELECT o.id, o.name, a.arm FROM offer_assignments a JOIN offers o ON o.id = a.offer_id
		WHERE a.customer_id = ? ORDER BY o.id`, args, func(rows *sql.Rows) error {
		var o rapport.ExportedOffer
		if err := rows.Scan(&o.OfferID, &o.Name, &o.Arm); err != nil {
			return err
		}
		e.Offers = append(e.Offers, o)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if e.Gestures, err = exportedGestures(ctx, q, id); err != nil {
		return nil, err
	}
	return e, nil
}

// exportedGestures are the customer's milestones gesture rules found.
func exportedGestures(ctx context.Context, q querier, id string) ([]rapport.ExportedGesture, error) {
	out := []rapport.ExportedGesture{}
	err := eachRow(ctx, q, `SELECT r.id, r.name, g.milestone, g.milestone_at, g.arm FROM gestures g JOIN gesture_rules r ON r.id = g.rule_id
		WHERE g.customer_id = ? ORDER BY g.milestone_at, g.id`, []any{id}, func(rows *sql.Rows) error {
		var x rapport.ExportedGesture
		var at int64
		if err := rows.Scan(&x.RuleID, &x.Name, &x.Milestone, &at, &x.Arm); err != nil {
			return err
		}
		x.MilestoneAt = fromMicros(at)
		out = append(out, x)
		return nil
	})
	return out, err
}

// collect returns every row a query finds, scanned; an empty list, not nil,
// when there is none.
func collect[T any](ctx context.Context, q querier, query string, args []any, scan func(interface{ Scan(...any) error }) (T, error)) ([]T, error) {
	out := []T{}
	err := eachRow(ctx, q, query, args, func(rows *sql.Rows) error {
		v, err := scan(rows)
		out = append(out, v)
		return err
	})
	return out, err
}

func scanSurveyLink(row interface{ Scan(...any) error }) (*rapport.SurveyLink, error) {
	var l rapport.SurveyLink
	var created, expires int64
	var answered sql.NullInt64
	if err := row.Scan(&l.ID, &l.MomentID, &l.CustomerID, &created, &expires, &answered); err != nil {
		return nil, err
	}
	l.CreatedAt, l.ExpiresAt, l.AnsweredAt = fromMicros(created), fromMicros(expires), timePtr(answered)
	return &l, nil
}

// customerCases are a customer's recovery cases, oldest first, each with
// what was done on it.
func customerCases(ctx context.Context, q querier, customerID string, now time.Time) ([]*rapport.RecoveryCase, error) {
	ids, err := queryIDs(ctx, q, `SELECT id FROM recovery_cases WHERE customer_id = ? ORDER BY opened_at, id`, customerID)
	if err != nil {
		return nil, err
	}
	out := make([]*rapport.RecoveryCase, 0, len(ids))
	for _, id := range ids {
		c, err := findCase(ctx, q, id, now)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// segmentsOf are the segments a customer is in now.
func (db *DB) segmentsOf(ctx context.Context, q querier, customerID string) ([]rapport.SegmentRef, error) {
	segments, err := collect(ctx, q, `SELECT `+segmentColumns+` FROM segments ORDER BY name, id`, nil, scanSegment)
	if err != nil {
		return nil, err
	}
	out := []rapport.SegmentRef{}
	for _, sg := range segments {
		cq, err := db.compileRule(sg.Rule)
		if err != nil {
			continue // a rule this version cannot read selects no one
		}
		var n int
		if err := q.queryRow(ctx, `SELECT COUNT(*)`+segmentFrom(cq)+` WHERE (`+cq.Where+`) AND m.customer_id = ?`,
			append(cq.Args, customerID)...).Scan(&n); err != nil {
			return nil, err
		}
		if n > 0 {
			out = append(out, rapport.SegmentRef{ID: sg.ID, Name: sg.Name, Rule: sg.Rule})
		}
	}
	return out, nil
}
