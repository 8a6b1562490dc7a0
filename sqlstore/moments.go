package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rapport-crm/rapport"
)

// MomentService records and finds moments.
type MomentService struct{ db *DB }

// NewMomentService returns the moments stored in db.
func NewMomentService(db *DB) *MomentService { return &MomentService{db: db} }

var _ rapport.MomentService = (*MomentService)(nil)

const momentColumns = `id, external_id, customer_id, touchpoint, channel, occurred_at, staff_id, response,
	rating, effort, nps, outcome, outcome_source, notes, revenue, cost, recorded_at`

// momentColumnCount is the number of columns above, for multi-row inserts.
const momentColumnCount = 17

// insertChunk rows go in one INSERT: 17 × 500 parameters stay well under both
// SQLite's and PostgreSQL's limits.
const insertChunk = 500

// RecordMoment stores one moment; see rapport.MomentService.
func (s *MomentService) RecordMoment(ctx context.Context, m *rapport.Moment) (bool, error) {
	created, err := s.record(ctx, rapport.SourceSingle, []*rapport.Moment{m})
	if err != nil {
		return false, err
	}
	return created[0], nil
}

// RecordMoments stores a batch of moments, all or nothing.
func (s *MomentService) RecordMoments(ctx context.Context, ms []*rapport.Moment) ([]bool, error) {
	if len(ms) == 0 {
		return nil, rapport.Errorf(rapport.EINVALID, "The batch has no moments.")
	}
	return s.record(ctx, rapport.SourceBatch, ms)
}

// record validates and stores moments in one transaction. A single moment's
// errors carry no index; a batch's carry each moment's.
func (s *MomentService) record(ctx context.Context, source rapport.MomentSource, ms []*rapport.Moment) ([]bool, error) {
	now := s.db.now()
	batch := source != rapport.SourceSingle
	var fields []rapport.FieldError
	for i, m := range ms {
		idx := -1
		if batch {
			idx = i
		}
		fields = append(fields, m.Validate(now, idx)...)
	}
	if source == rapport.SourceSingle && len(fields) == 0 {
		created, err := s.recordShared(ctx, ms[0])
		return []bool{created}, err
	}
	return s.recordAlone(ctx, source, ms, fields)
}

// recordAlone stores validated moments in a transaction of their own;
// fields are the problems validation found.
func (s *MomentService) recordAlone(ctx context.Context, source rapport.MomentSource, ms []*rapport.Moment, fields []rapport.FieldError) ([]bool, error) {
	// On PostgreSQL another request may store one of these external ids between
	// our look and our insert. Its transaction has committed by the time ours
	// fails, so a second attempt finds the moment and the caller sees an
	// ordinary retry, not the race.
	sent := make([]rapport.Moment, len(ms))
	for i, m := range ms {
		sent[i] = *m
	}
	for attempt := 1; ; attempt++ {
		created, err := s.recordOnce(ctx, source, ms, fields)
		if !errors.Is(err, errRaced) || attempt == 3 {
			return created, err
		}
		for i, m := range ms {
			*m = sent[i]
		}
	}
}

// recordOnce stores validated moments in one transaction; fields are the
// problems validation found.
func (s *MomentService) recordOnce(ctx context.Context, source rapport.MomentSource, ms []*rapport.Moment, fields []rapport.FieldError) ([]bool, error) {
	var created []bool
	batch := source != rapport.SourceSingle
	err := s.db.inTx(ctx, func(tx *tx) error {
		refFields, err := checkMomentRefs(ctx, tx, ms, batch)
		if err != nil {
			return err
		}
		if all := slices.Concat(fields, refFields); len(all) > 0 {
			return invalidMoments(all, len(ms), batch)
		}
		created, err = s.storeNew(ctx, tx, source, ms)
		return err
	})
	if err != nil {
		return nil, err
	}
	return created, nil
}

// storeNew stores the moments whose external ids are not stored yet, with
// what follows from them, and reports which were new. A moment stored
// already becomes the stored one, as a retry finds it; one sent twice at
// once is stored once, and both senders get it.
func (s *MomentService) storeNew(ctx context.Context, tx *tx, source rapport.MomentSource, ms []*rapport.Moment) ([]bool, error) {
	created := make([]bool, len(ms))
	fresh, byExternalID, err := s.dedupe(ctx, tx, ms, created)
	if err != nil {
		return nil, err
	}
	recordedAt := tx.now.Truncate(time.Microsecond)
	for _, m := range fresh {
		m.ID, m.RecordedAt = rapport.NewID(tx.now), recordedAt
	}
	for i, m := range ms {
		if !created[i] && m.ID == "" {
			*m = *byExternalID[m.ExternalID]
		}
	}
	return created, addMoments(ctx, tx, source, fresh)
}

// dedupe replaces each moment whose external id is stored already (or appeared
// earlier in the batch) by the stored one, and returns the moments to insert.
func (s *MomentService) dedupe(ctx context.Context, tx *tx, ms []*rapport.Moment, created []bool) (fresh []*rapport.Moment, byExternalID map[string]*rapport.Moment, err error) {
	var ext []any
	for _, m := range ms {
		if m.ExternalID != "" {
			ext = append(ext, m.ExternalID)
		}
	}
	existing := map[string]*rapport.Moment{}
	err = inChunks(ext, func(chunk []any) error {
		rows, err := tx.query(ctx, `SELECT `+momentColumns+` FROM moments WHERE external_id IN (`+placeholders(len(chunk))+`)`, chunk...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			m, err := scanMoment(rows)
			if err != nil {
				return err
			}
			existing[m.ExternalID] = m
		}
		return rows.Err()
	})
	if err != nil {
		return nil, nil, err
	}
	fresh = make([]*rapport.Moment, 0, len(ms))
	for i, m := range ms {
		if m.ExternalID != "" {
			if old, ok := existing[m.ExternalID]; ok {
				*m = *old
				continue
			}
			existing[m.ExternalID] = m
		}
		created[i] = true
		fresh = append(fresh, m)
	}
	return fresh, existing, nil
}

func insertMoments(ctx context.Context, tx *tx, ms []*rapport.Moment) error {
	return insertMomentsInto(ctx, tx, "moments", ms)
}

// insertMomentsInto inserts moments into table, which has the moments
// table's columns.
func insertMomentsInto(ctx context.Context, tx *tx, table string, ms []*rapport.Moment) error {
	if len(ms) == 0 {
		return nil
	}
	var q strings.Builder
	q.WriteString(`INSERT INTO ` + table + ` (` + momentColumns + `) VALUES `)
	row := "(" + placeholders(momentColumnCount) + ")"
	args := make([]any, 0, len(ms)*momentColumnCount)
	for i, m := range ms {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString(row)
		args = append(args, momentValues(m)...)
	}
	_, err := tx.exec(ctx, q.String(), args...)
	if tx.d.uniqueViolation(err) {
		return errRaced
	}
	return err
}

// momentValues are a moment's values in the order of momentColumns.
func momentValues(m *rapport.Moment) []any {
	return []any{m.ID, nullString(m.ExternalID), m.CustomerID, m.Touchpoint, string(m.Channel),
		micros(m.OccurredAt), nullString(m.StaffID), nullString(m.Response), nullInt(m.Rating),
		nullInt(m.Effort), nullInt(m.NPS), string(m.Outcome), m.OutcomeSource, m.Notes, m.Revenue, m.Cost,
		micros(m.RecordedAt)}
}

// errRaced is a unique violation on insert: another transaction stored one of
// these external ids after we looked. record retries; should the race repeat,
// the client's own retry will find the moment.
var errRaced = rapport.Errorf(rapport.ECONFLICT, "A moment with one of these external ids was recorded at the same time; retry the request.")

// momentRefs are the touchpoints and the responses in use, as keys
// (responses as "touchpoint/key"), that a moment may name.
type momentRefs struct{ touchpoints, responses map[string]bool }

func loadMomentRefs(ctx context.Context, q querier) (momentRefs, error) {
	refs := momentRefs{touchpoints: map[string]bool{}, responses: map[string]bool{}}
	err := eachRow(ctx, q, `SELECT key FROM touchpoints`, nil, func(rows *sql.Rows) error {
		var k string
		err := rows.Scan(&k)
		refs.touchpoints[k] = true
		return err
	})
	if err != nil {
		return refs, err
	}
	err = eachRow(ctx, q, `SELECT touchpoint, key FROM responses WHERE status <> 'retired'`, nil, func(rows *sql.Rows) error {
		var t, k string
		err := rows.Scan(&t, &k)
		refs.responses[t+"/"+k] = true
		return err
	})
	return refs, err
}

// checkMomentRefs reports moments whose customer, touchpoint, staff member or
// response does not exist.
func checkMomentRefs(ctx context.Context, tx *tx, ms []*rapport.Moment, batch bool) ([]rapport.FieldError, error) {
	customerIDs, staffIDs := make([]string, len(ms)), make([]string, len(ms))
	for i, m := range ms {
		customerIDs[i], staffIDs[i] = m.CustomerID, m.StaffID
	}
	// Locked until the moments are stored, so that an erasure waits for
	// them and then clears them, or goes first and is seen here.
	customers, err := existingValuesLocked(ctx, tx, `SELECT id FROM customers WHERE erased_at IS NULL AND id IN`,
		tx.d.shareLock, customerIDs)
	if err != nil {
		return nil, err
	}
	erased, err := erasedAmong(ctx, tx, customerIDs, customers)
	if err != nil {
		return nil, err
	}
	staff, err := existingValues(ctx, tx, `SELECT id FROM users WHERE id IN`, staffIDs)
	if err != nil {
		return nil, err
	}
	// The touchpoints and responses are the settings of the transaction,
	// which records moments: pinned here, they hold for the pipeline too.
	if _, err := tx.pinSettings(ctx); err != nil {
		return nil, err
	}
	refs, err := cachedMomentRefs(ctx, tx)
	if err != nil {
		return nil, err
	}
	touchpoints, responses := refs.touchpoints, refs.responses

	var fields []rapport.FieldError
	for i, m := range ms {
		idx := -1
		if batch {
			idx = i
		}
		add := func(field, msg string, args ...any) {
			fields = append(fields, rapport.NewFieldError(idx, field, msg, args...))
		}
		switch {
		case m.CustomerID == "" || customers[m.CustomerID]:
		case erased[m.CustomerID]:
			add("customer_id", "customer %q was erased and takes no new moments", m.CustomerID)
		default:
			add("customer_id", "no customer has the id %q", m.CustomerID)
		}
		if m.Touchpoint != "" && !touchpoints[m.Touchpoint] {
			add("touchpoint", "no touchpoint has the key %q", m.Touchpoint)
		} else if m.Response != "" && !responses[m.Touchpoint+"/"+m.Response] {
			add("response", "touchpoint %q has no active response %q", m.Touchpoint, m.Response)
		}
		if m.StaffID != "" && !staff[m.StaffID] {
			add("staff_id", "no user has the id %q", m.StaffID)
		}
	}
	return fields, nil
}

// erasedAmong returns which of ids, other than the live ones found, are
// erased customers. It asks only when some id was not found, which
// recording a moment for a known customer never does.
func erasedAmong(ctx context.Context, tx *tx, ids []string, live map[string]bool) (map[string]bool, error) {
	var missing []string
	for _, id := range ids {
		if id != "" && !live[id] {
			missing = append(missing, id)
		}
	}
	if len(missing) == 0 {
		return nil, nil
	}
	return existingValues(ctx, tx, `SELECT id FROM customers WHERE erased_at IS NOT NULL AND id IN`, missing)
}

// existingValues returns which of values (ignoring empty ones) a query
// finds, asking in chunks: prefix selects one column and ends with IN, as in
// SELECT id FROM customers WHERE id IN.
func existingValues(ctx context.Context, tx *tx, prefix string, values []string) (map[string]bool, error) {
	return existingValuesLocked(ctx, tx, prefix, "", values)
}

// existingValuesLocked is existingValues with lock (a dialect's shareLock
// or updateLock, or "") after each query.
func existingValuesLocked(ctx context.Context, tx *tx, prefix, lock string, values []string) (map[string]bool, error) {
	seen := map[string]bool{}
	var args []any
	for _, v := range values {
		if v != "" && !seen[v] {
			seen[v] = true
			args = append(args, v)
		}
	}
	found := make(map[string]bool, len(args))
	err := inChunks(args, func(chunk []any) error {
		rows, err := tx.query(ctx, prefix+` (`+placeholders(len(chunk))+`)`+lock, chunk...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var v string
			if err := rows.Scan(&v); err != nil {
				return err
			}
			found[v] = true
		}
		return rows.Err()
	})
	return found, err
}

// anys turns ids into query arguments.
func anys(ids []string) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}

// inChunks calls fn on slices of at most insertChunk values.
func inChunks(vals []any, fn func([]any) error) error {
	for start := 0; start < len(vals); start += insertChunk {
		if err := fn(vals[start:min(start+insertChunk, len(vals))]); err != nil {
			return err
		}
	}
	return nil
}

func invalidMoments(fields []rapport.FieldError, n int, batch bool) error {
	if !batch {
		return rapport.InvalidMoments(fields)
	}
	bad := map[int]bool{}
	for _, f := range fields {
		bad[*f.Index] = true
	}
	return &rapport.Error{Code: rapport.EINVALID, Fields: fields,
		Message: fmt.Sprintf("%d of %d moments are not valid; nothing was recorded.", len(bad), n)}
}

// FindMomentByID returns one moment, or ENOTFOUND.
func (s *MomentService) FindMomentByID(ctx context.Context, id string) (*rapport.Moment, error) {
	m, err := scanMoment(s.db.reader().queryRow(ctx, `SELECT `+momentColumns+` FROM moments WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, rapport.Errorf(rapport.ENOTFOUND, "No moment has the id %q.", id)
	}
	return m, err
}

// FindMoments lists moments, newest first.
func (s *MomentService) FindMoments(ctx context.Context, f rapport.MomentFilter) (rapport.Page[*rapport.Moment], error) {
	page := rapport.Page[*rapport.Moment]{Items: []*rapport.Moment{}}
	where, args := whereEqual([]string{"1 = 1"}, []any{}, "customer_id", f.CustomerID, "touchpoint", f.Touchpoint,
		"channel", string(f.Channel), "outcome", string(f.Outcome), "staff_id", f.StaffID)
	where, args = whereWindow(where, args, "occurred_at", f.From, f.To)
	if f.Cursor != "" {
		us, id, err := decodeTimeCursor(f.Cursor)
		if err != nil {
			return page, err
		}
		where = append(where, "(occurred_at < ? OR (occurred_at = ? AND id < ?))")
		args = append(args, us, us, id)
	}
	limit := rapport.PageLimit(f.Limit)
	return queryPage(ctx, s.db.reader(), `SELECT `+momentColumns+` FROM moments WHERE `+strings.Join(where, " AND ")+
		` ORDER BY occurred_at DESC, id DESC LIMIT ?`, args, limit,
		func(rows *sql.Rows) (*rapport.Moment, error) { return scanMoment(rows) },
		func(m *rapport.Moment) string { return timeCursor(m.OccurredAt, m.ID) })
}

func scanMoment(row interface{ Scan(...any) error }) (*rapport.Moment, error) {
	var (
		m                       rapport.Moment
		externalID, staff, resp sql.NullString
		rating, effort, nps     sql.NullInt64
		channel, outcome        string
		occurredAt, recordedAt  int64
	)
	if err := row.Scan(&m.ID, &externalID, &m.CustomerID, &m.Touchpoint, &channel, &occurredAt, &staff, &resp,
		&rating, &effort, &nps, &outcome, &m.OutcomeSource, &m.Notes, &m.Revenue, &m.Cost, &recordedAt); err != nil {
		return nil, err
	}
	m.ExternalID, m.StaffID, m.Response = externalID.String, staff.String, resp.String
	m.Rating, m.Effort, m.NPS = intPtr(rating), intPtr(effort), intPtr(nps)
	m.Channel, m.Outcome = rapport.Channel(channel), rapport.Outcome(outcome)
	m.OccurredAt, m.RecordedAt = fromMicros(occurredAt), fromMicros(recordedAt)
	return &m, nil
}
