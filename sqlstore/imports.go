package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/rapport-crm/rapport"
)

// ImportService brings moments and customers in from files and takes them
// out again.
//
// An import is checked whole before anything is written: the rows' own
// fields (by the reader), then every reference, on the read pool. Only then
// is it written, rapport.ImportChunk rows per transaction. Chunks rather
// than one transaction: a file of 10,000 moments in one transaction would
// hold SQLite's single writer for the whole import, and everyone logging a
// moment meanwhile would wait. Since everything was checked, a chunk fails
// only when the server stops or the data changes under the import (a
// customer deleted meanwhile); the chunks before it stay written, and
// because a row whose id or external id is stored is skipped, importing the
// same file again completes it.
type ImportService struct {
	db      *DB
	moments *MomentService
	files   ImportFiles
	worker  string // this server, in the import jobs it claims
}

// NewImportService returns imports and exports over db, keeping import
// jobs' files in the system's temporary directory.
func NewImportService(db *DB) *ImportService { return NewImportServiceWith(db, ImportFiles{}) }

var _ rapport.ImportService = (*ImportService)(nil)

// report gathers an import's problems by row: one message per row and
// column, the first found, since later checks of a bad cell only repeat it.
type report struct {
	fields []rapport.FieldError
	bad    map[int]bool
	seen   map[string]bool
}

func newReport(read []rapport.FieldError) *report {
	r := &report{bad: map[int]bool{}, seen: map[string]bool{}}
	for _, f := range read {
		r.addField(f)
	}
	return r
}

func (r *report) addField(f rapport.FieldError) {
	row := 0
	if f.Index != nil {
		row = *f.Index
	}
	key := fmt.Sprint(row, "\x00", f.Field)
	if r.seen[key] {
		return
	}
	r.seen[key] = true
	r.bad[row] = true
	r.fields = append(r.fields, f)
}

func (r *report) add(row int, field, format string, args ...any) {
	r.addField(rapport.NewFieldError(row, field, format, args...))
}

// header reports whether the first row itself is at fault, in which case no
// row can be trusted and the file is refused whatever the options.
func (r *report) header() bool { return r.bad[1] }

// sorted returns the problems by row, at most rapport.MaxImportProblems.
func (r *report) sorted() []rapport.FieldError {
	out := slices.Clone(r.fields)
	slices.SortStableFunc(out, func(a, b rapport.FieldError) int { return cmp.Compare(*a.Index, *b.Index) })
	return out[:min(len(out), rapport.MaxImportProblems)]
}

// refusal is the error for a file refused because of its problems.
func (r *report) refusal(rows int) error {
	msg := fmt.Sprintf("%d of %d rows are not valid; nothing was imported.", len(r.bad), rows)
	if r.header() {
		msg = "The first row, which names the columns, is not right; nothing was imported."
	}
	if len(r.fields) > rapport.MaxImportProblems {
		msg += fmt.Sprintf(" The first %d of %d problems are listed.", rapport.MaxImportProblems, len(r.fields))
	}
	return &rapport.Error{Code: rapport.EINVALID, Message: msg, Fields: r.sorted()}
}

// finish ends the checking: a file with problems is refused, unless the
// options say to leave its bad rows out, when they are listed in res.
func (r *report) finish(res *rapport.ImportResult, opt rapport.ImportOptions) error {
	if len(r.fields) == 0 {
		return nil
	}
	if !opt.SkipInvalid || r.header() {
		return r.refusal(res.Rows)
	}
	res.Invalid, res.Errors = len(r.bad), r.sorted()
	return nil
}

// readTx runs the store's checks, which take a transaction, on the read
// pool: checking an import must not hold the writer.
func (s *ImportService) readTx() *tx {
	return &tx{querier: s.db.reader(), now: s.db.now()}
}

// users maps every user's id to their email and back; there are few.
func (s *ImportService) users(ctx context.Context) (byID, byEmail map[string]string, err error) {
	rows, err := s.db.reader().query(ctx, `SELECT id, email FROM users`)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	byID, byEmail = map[string]string{}, map[string]string{}
	for rows.Next() {
		var id, email string
		if err := rows.Scan(&id, &email); err != nil {
			return nil, nil, err
		}
		byID[id], byEmail[email] = email, id
	}
	return byID, byEmail, rows.Err()
}

// lookup maps each of values (ignoring empty ones) that a query finds to
// what it finds: query selects two columns and ends with IN, as in
// SELECT external_id, id FROM customers WHERE external_id IN.
func lookup(ctx context.Context, q querier, query string, values []string) (map[string]string, error) {
	var args []any
	seen := map[string]bool{}
	for _, v := range values {
		if v != "" && !seen[v] {
			seen[v] = true
			args = append(args, v)
		}
	}
	found := make(map[string]string, len(args))
	err := inChunks(args, func(chunk []any) error {
		rows, err := q.query(ctx, query+` (`+placeholders(len(chunk))+`)`, chunk...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var k string
			var v sql.NullString
			if err := rows.Scan(&k, &v); err != nil {
				return err
			}
			found[k] = v.String
		}
		return rows.Err()
	})
	return found, err
}

// resolve settles which record a row names when it may name it two ways:
// by id, or by another key (an external id, an email). The other key, when
// given, is what finds the record; an id given beside it must then name the
// same record, or none at all, as when a file moves to another database
// where the ids it carries do not exist. It returns the id to use, or ""
// after reporting a problem.
func resolve(r *report, row int, idCol, id, keyCol, key string, byKey map[string]string, idExists bool, what, keyName string) string {
	if key == "" {
		return id
	}
	found, ok := byKey[key]
	switch {
	case !ok:
		r.add(row, keyCol, "no %s has the %s %q", what, keyName, key)
		return ""
	case id != "" && id != found && idExists:
		r.add(row, idCol, "names a different %s from %s %q", what, keyCol, key)
		return ""
	}
	return found
}

// ImportMoments checks and records a file of moments; see rapport.ImportService.
func (s *ImportService) ImportMoments(ctx context.Context, f *rapport.MomentFile, opt rapport.ImportOptions) (*rapport.ImportResult, error) {
	res := &rapport.ImportResult{Rows: len(f.Rows), DryRun: opt.DryRun, Errors: []rapport.FieldError{}}
	r := newReport(f.Problems)
	if r.header() {
		return nil, r.refusal(res.Rows)
	}
	fresh, rowOf, err := s.momentsToRecord(ctx, f, r, res, true)
	if err != nil {
		return nil, err
	}
	if err := r.finish(res, opt); err != nil {
		return nil, err
	}
	keep := 0
	for i, m := range fresh {
		if !r.bad[rowOf[i]] {
			fresh[keep], rowOf[keep] = m, rowOf[i]
			keep++
		}
	}
	fresh, rowOf = fresh[:keep], rowOf[:keep]
	if opt.DryRun {
		res.Created = len(fresh)
		return res, nil
	}
	for start := 0; start < len(fresh); start += rapport.ImportChunk {
		end := min(start+rapport.ImportChunk, len(fresh))
		created, err := s.moments.record(ctx, rapport.SourceImport, fresh[start:end])
		if err != nil {
			return nil, errors.Join(stopped(err, res.Created, rowOf[start:end]), s.auditImport(ctx, "moments", res))
		}
		for _, ok := range created {
			if ok {
				res.Created++
			} else {
				res.Skipped++ // stored by someone else since the check
			}
		}
	}
	return res, s.auditImport(ctx, "moments", res)
}

// auditImport records an import in the audit log: one entry with its
// counts, not one per row. A file is added in chunks of rapport.ImportChunk
// rows, each committed on its own, so the entry is written after the last
// (or after the one the import stopped at) in a transaction of its own.
// Nothing is recorded for an import that added nothing.
func (s *ImportService) auditImport(ctx context.Context, kind string, res *rapport.ImportResult) error {
	if res.Created == 0 {
		return nil
	}
	return s.db.inTx(ctx, func(tx *tx) error {
		return auditChanges(ctx, tx, rapport.AuditImport, "import", rapport.NewID(tx.now), map[string]rapport.AuditChange{
			"kind": {After: kind}, "rows": {After: res.Rows}, "created": {After: res.Created},
			"skipped": {After: res.Skipped}, "invalid": {After: res.Invalid},
		})
	})
}

// momentsToRecord returns the file's moments that are not stored yet, with
// the row each comes from, their customers and staff resolved from the
// file's external ids and emails; rows stored already count as skipped, and
// problems go in the report. With checkRefs the references are checked
// too; an import job leaves that to the transaction that stores them.
func (s *ImportService) momentsToRecord(ctx context.Context, f *rapport.MomentFile, r *report, res *rapport.ImportResult, checkRefs bool) ([]*rapport.Moment, []int, error) {
	var ids, externalIDs, customerIDs, customerKeys []string
	for _, row := range f.Rows {
		ids, externalIDs = append(ids, row.Moment.ID), append(externalIDs, row.Moment.ExternalID)
		customerIDs, customerKeys = append(customerIDs, row.Moment.CustomerID), append(customerKeys, row.CustomerExternalID)
	}
	storedIDs, err := existingValues(ctx, s.readTx(), `SELECT id FROM moments WHERE id IN`, ids)
	if err != nil {
		return nil, nil, err
	}
	storedExternal, err := existingValues(ctx, s.readTx(), `SELECT external_id FROM moments WHERE external_id IN`, externalIDs)
	if err != nil {
		return nil, nil, err
	}
	customersByKey, err := lookup(ctx, s.db.reader(), `SELECT external_id, id FROM customers WHERE external_id IN`, customerKeys)
	if err != nil {
		return nil, nil, err
	}
	customers, err := existingValues(ctx, s.readTx(), `SELECT id FROM customers WHERE id IN`, customerIDs)
	if err != nil {
		return nil, nil, err
	}
	staffEmails, staffByEmail, err := s.users(ctx)
	if err != nil {
		return nil, nil, err
	}
	var fresh []*rapport.Moment
	var rowOf []int
	for _, row := range f.Rows {
		m := row.Moment
		if storedIDs[m.ID] || storedExternal[m.ExternalID] {
			res.Skipped++
			continue
		}
		m.CustomerID = resolve(r, row.Row, "customer_id", m.CustomerID, "customer_external_id", row.CustomerExternalID, customersByKey, customers[m.CustomerID], "customer", "external id")
		_, staffExists := staffEmails[m.StaffID]
		m.StaffID = resolve(r, row.Row, "staff_id", m.StaffID, "staff_email", row.StaffEmail, staffByEmail, staffExists, "user", "email")
		m.ID = "" // a new moment gets a new id
		if m.OutcomeSource == rapport.OutcomeRated || m.OutcomeSource == rapport.OutcomeDefault {
			m.Outcome = "" // derived again from the rating when recorded
		}
		fresh, rowOf = append(fresh, &m), append(rowOf, row.Row)
	}
	if !checkRefs {
		return fresh, rowOf, nil
	}
	refs, err := checkMomentRefs(ctx, s.readTx(), fresh, true)
	if err != nil {
		return nil, nil, err
	}
	for _, fe := range refs {
		r.add(rowOf[*fe.Index], fe.Field, "%s", fe.Message)
	}
	return fresh, rowOf, nil
}

// stopped describes an import that failed part way, after created rows were
// written. Problems the store found in a chunk are put back on their rows.
func stopped(err error, created int, rows []int) error {
	again := "Importing the same file again completes it."
	if created == 0 {
		again = "Nothing was imported."
	}
	code := rapport.ErrorCode(err)
	if code == rapport.EINTERNAL {
		return fmt.Errorf("import stopped at row %d after %d rows: %w", rows[0], created, err)
	}
	var fields []rapport.FieldError
	for _, fe := range rapport.ErrorFields(err) {
		if fe.Index != nil && *fe.Index < len(rows) {
			fields = append(fields, rapport.NewFieldError(rows[*fe.Index], fe.Field, "%s", fe.Message))
		}
	}
	return &rapport.Error{Code: code, Fields: fields, Message: fmt.Sprintf(
		"The data changed while the file was imported, and the import stopped at row %d after %d rows: %s %s",
		rows[0], created, rapport.ErrorMessage(err), again)}
}

// ImportCustomers checks and adds a file of customers; see rapport.ImportService.
// A row may name as its referrer another row of the same file (by the id
// column, as an export writes it); referrers are added first.
func (s *ImportService) ImportCustomers(ctx context.Context, f *rapport.CustomerFile, opt rapport.ImportOptions) (*rapport.ImportResult, error) {
	res := &rapport.ImportResult{Rows: len(f.Rows), DryRun: opt.DryRun, Errors: []rapport.FieldError{}}
	r := newReport(f.Problems)
	if r.header() {
		return nil, r.refusal(res.Rows)
	}
	fresh, inFile, err := s.customersToAdd(ctx, f, r, res)
	if err != nil {
		return nil, err
	}
	ordered := referrersFirst(r, fresh, inFile)
	if opt.SkipInvalid {
		leaveOutReferred(r, fresh, inFile)
	}
	if err := r.finish(res, opt); err != nil {
		return nil, err
	}
	ordered = slices.DeleteFunc(ordered, func(row *rapport.CustomerRow) bool { return r.bad[row.Row] })
	if opt.DryRun {
		res.Created = len(ordered)
		return res, nil
	}
	for start := 0; start < len(ordered); start += rapport.ImportChunk {
		chunk := ordered[start:min(start+rapport.ImportChunk, len(ordered))]
		if err := s.db.inTx(ctx, func(tx *tx) error { return addCustomerRows(ctx, tx, chunk) }); err != nil {
			rows := make([]int, len(chunk))
			for i, row := range chunk {
				rows[i] = row.Row
			}
			return nil, errors.Join(stopped(err, res.Created, rows), s.auditImport(ctx, "customers", res))
		}
		res.Created += len(chunk)
	}
	return res, s.auditImport(ctx, "customers", res)
}

// customersToAdd returns the file's customers that are not stored yet, with
// their owners resolved from the file's emails, and those of them that have
// an id by it; rows stored already count as skipped, and problems (an
// unknown owner or referrer) go in the report.
func (s *ImportService) customersToAdd(ctx context.Context, f *rapport.CustomerFile, r *report, res *rapport.ImportResult) (
	fresh []*rapport.CustomerRow, inFile map[string]*rapport.CustomerRow, err error) {
	var ids, externalIDs, referrers []string
	for _, row := range f.Rows {
		c := row.Customer
		ids, externalIDs, referrers = append(ids, c.ID), append(externalIDs, c.ExternalID), append(referrers, c.ReferredBy)
	}
	storedIDs, err := existingValues(ctx, s.readTx(), `SELECT id FROM customers WHERE id IN`, ids)
	if err != nil {
		return nil, nil, err
	}
	storedExternal, err := existingValues(ctx, s.readTx(), `SELECT external_id FROM customers WHERE external_id IN`, externalIDs)
	if err != nil {
		return nil, nil, err
	}
	storedReferrers, err := existingValues(ctx, s.readTx(), `SELECT id FROM customers WHERE id IN`, referrers)
	if err != nil {
		return nil, nil, err
	}
	ownerEmails, ownerByEmail, err := s.users(ctx)
	if err != nil {
		return nil, nil, err
	}
	// A deactivated user keeps the customers they own but is given no new
	// ones, as when a customer is added by hand.
	gone, err := existingValues(ctx, s.readTx(), `SELECT id FROM users WHERE deactivated_at IS NOT NULL AND id IN`, slices.Collect(maps.Keys(ownerEmails)))
	if err != nil {
		return nil, nil, err
	}
	fresh, inFile = []*rapport.CustomerRow{}, map[string]*rapport.CustomerRow{}
	for i := range f.Rows {
		row := f.Rows[i]
		c := &row.Customer
		if storedIDs[c.ID] || storedExternal[c.ExternalID] {
			res.Skipped++
			continue
		}
		if !c.CreatedAt.IsZero() {
			if msg := rapport.CheckCustomerSince(c.CreatedAt, s.db.now()); msg != "" {
				r.add(row.Row, "created_at", "%s", msg)
			}
		}
		_, ownerExists := ownerEmails[c.OwnerID]
		c.OwnerID = resolve(r, row.Row, "owner_id", c.OwnerID, "owner_email", row.OwnerEmail, ownerByEmail, ownerExists, "user", "email")
		if c.OwnerID != "" && !ownerExists && row.OwnerEmail == "" {
			r.add(row.Row, "owner_id", "no user has the id %q", c.OwnerID)
		} else if gone[c.OwnerID] {
			field := "owner_id"
			if row.OwnerEmail != "" {
				field = "owner_email"
			}
			r.add(row.Row, field, "names %s, who is deactivated: choose someone active", ownerEmails[c.OwnerID])
		}
		fresh = append(fresh, &row)
		if c.ID != "" {
			inFile[c.ID] = &row
		}
	}
	for _, row := range fresh {
		if ref := row.Customer.ReferredBy; ref != "" && !storedReferrers[ref] && inFile[ref] == nil {
			r.add(row.Row, "referred_by", "no customer has the id %q, stored or in this file", ref)
		}
	}
	return fresh, inFile, nil
}

// addCustomerRows adds one chunk of checked customers, referrers first, and
// measures them and the referrers whose referral counts they change.
func addCustomerRows(ctx context.Context, tx *tx, chunk []*rapport.CustomerRow) error {
	ids, referrers := make([]string, len(chunk)), []string{}
	for i, row := range chunk {
		if err := insertCustomer(ctx, tx, &row.Customer); err != nil {
			if rapport.ErrorCode(err) == rapport.ECONFLICT {
				return &rapport.Error{Code: rapport.ECONFLICT, Message: "A customer in this file was added by someone else meanwhile.",
					Fields: []rapport.FieldError{rapport.NewFieldError(i, "external_id", "is stored already")}}
			}
			return err
		}
		ids[i] = row.Customer.ID
		referrers = append(referrers, row.Customer.ReferredBy)
	}
	_, err := refreshCustomers(ctx, tx, withReferrers(ids, referrers...), false)
	return err
}

// leaveOutReferred reports the rows whose referrer, in the same file, is
// left out as not valid: they cannot be added either.
func leaveOutReferred(r *report, rows []*rapport.CustomerRow, inFile map[string]*rapport.CustomerRow) {
	for changed := true; changed; {
		changed = false
		for _, row := range rows {
			ref := inFile[row.Customer.ReferredBy]
			if ref != nil && r.bad[ref.Row] && !r.bad[row.Row] {
				r.add(row.Row, "referred_by", "names the customer of row %d, which is not valid", ref.Row)
				changed = true
			}
		}
	}
}

// referrersFirst orders the rows to add so that each comes after the row of
// the same file that referred it, since a customer's referrer must exist
// before them. Rows whose referrals go round in a loop are reported.
func referrersFirst(r *report, rows []*rapport.CustomerRow, inFile map[string]*rapport.CustomerRow) []*rapport.CustomerRow {
	referred := map[string][]*rapport.CustomerRow{} // referrer's id to the rows it referred
	waiting := map[*rapport.CustomerRow]bool{}
	var out, ready []*rapport.CustomerRow
	for _, row := range rows {
		if ref := row.Customer.ReferredBy; inFile[ref] != nil {
			referred[ref] = append(referred[ref], row)
			waiting[row] = true
		} else {
			ready = append(ready, row)
		}
	}
	for len(ready) > 0 {
		row := ready[0]
		ready = ready[1:]
		out = append(out, row)
		if row.Customer.ID != "" {
			for _, next := range referred[row.Customer.ID] {
				delete(waiting, next)
				ready = append(ready, next)
			}
		}
	}
	var loop []*rapport.CustomerRow
	for _, row := range rows {
		if waiting[row] {
			loop = append(loop, row)
		}
	}
	for _, row := range loop {
		r.add(row.Row, "referred_by", "the referrals of this row and others go round in a loop; a customer's referrer must have come before them")
		out = append(out, row)
	}
	return out
}

// ExportMoments pages through the moments a filter selects; see rapport.ImportService.
func (s *ImportService) ExportMoments(ctx context.Context, f rapport.MomentFilter, each func(*rapport.MomentRow) error) error {
	emails, _, err := s.users(ctx)
	if err != nil {
		return err
	}
	moments := NewMomentService(s.db)
	f.Limit, f.Cursor = rapport.MaxPageSize, ""
	for {
		page, err := moments.FindMoments(ctx, f)
		if err != nil {
			return err
		}
		ids := make([]string, len(page.Items))
		for i, m := range page.Items {
			ids[i] = m.CustomerID
		}
		external, err := lookup(ctx, s.db.reader(), `SELECT id, external_id FROM customers WHERE id IN`, ids)
		if err != nil {
			return err
		}
		for _, m := range page.Items {
			if err := each(&rapport.MomentRow{Moment: *m, CustomerExternalID: external[m.CustomerID], StaffEmail: emails[m.StaffID]}); err != nil {
				return err
			}
		}
		if page.NextCursor == "" {
			return nil
		}
		f.Cursor = page.NextCursor
	}
}

// CustomerAttributeKeys pages through the customers a filter selects,
// reading only their attributes; see rapport.ImportService.
func (s *ImportService) CustomerAttributeKeys(ctx context.Context, f rapport.CustomerFilter) ([]string, error) {
	keys := map[string]bool{}
	where, args := customerWhere(f)
	for after := ""; ; {
		w, a := where, args
		if after != "" {
			w, a = append(slices.Clone(w), "id < ?"), append(slices.Clone(a), after)
		}
		n, err := scanAttributeKeys(ctx, s.db.reader(), `SELECT id, attributes FROM customers WHERE `+strings.Join(w, " AND ")+
			` ORDER BY id DESC LIMIT ?`, append(a, rapport.MaxPageSize), keys, &after)
		if err != nil {
			return nil, err
		}
		if n < rapport.MaxPageSize {
			break
		}
	}
	out := make([]string, 0, len(keys))
	for k := range keys {
		out = append(out, k)
	}
	slices.Sort(out)
	return out, nil
}

// scanAttributeKeys adds the attribute keys of one page of customers to
// keys, leaving in last the id of the last customer, and returns how many
// customers the page held.
func scanAttributeKeys(ctx context.Context, q querier, query string, args []any, keys map[string]bool, last *string) (int, error) {
	rows, err := q.query(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var doc string
		if err := rows.Scan(last, &doc); err != nil {
			return n, err
		}
		n++
		var attrs map[string]json.RawMessage
		if err := json.Unmarshal([]byte(doc), &attrs); err != nil {
			return n, err
		}
		for k := range attrs {
			keys[k] = true
		}
	}
	return n, rows.Err()
}

// ExportCustomers pages through the customers a filter selects; see rapport.ImportService.
func (s *ImportService) ExportCustomers(ctx context.Context, f rapport.CustomerFilter, each func(*rapport.CustomerRow) error) error {
	emails, _, err := s.users(ctx)
	if err != nil {
		return err
	}
	customers := NewCustomerService(s.db)
	f.Limit, f.Cursor = rapport.MaxPageSize, ""
	for {
		page, err := customers.FindCustomers(ctx, f)
		if err != nil {
			return err
		}
		for _, c := range page.Items {
			if err := each(&rapport.CustomerRow{Customer: *c, OwnerEmail: emails[c.OwnerID]}); err != nil {
				return err
			}
		}
		if page.NextCursor == "" {
			return nil
		}
		f.Cursor = page.NextCursor
	}
}

// ImportStageChanges checks and applies a file of past stage changes; see
// rapport.ImportService. Rows are applied in the file's order, each as a
// change the stage rules may still follow (not held by hand).
func (s *ImportService) ImportStageChanges(ctx context.Context, f *rapport.StageChangeFile, opt rapport.ImportOptions) (*rapport.ImportResult, error) {
	res := &rapport.ImportResult{Rows: len(f.Rows), DryRun: opt.DryRun, Errors: []rapport.FieldError{}}
	r := newReport(f.Problems)
	if r.header() {
		return nil, r.refusal(res.Rows)
	}
	fresh, err := s.stageChangesToApply(ctx, f, r, res)
	if err != nil {
		return nil, err
	}
	if err := r.finish(res, opt); err != nil {
		return nil, err
	}
	fresh = slices.DeleteFunc(fresh, func(row *rapport.StageChangeRow) bool { return r.bad[row.Row] })
	if opt.DryRun {
		res.Created = len(fresh)
		return res, nil
	}
	for start := 0; start < len(fresh); start += rapport.ImportChunk {
		chunk := fresh[start:min(start+rapport.ImportChunk, len(fresh))]
		if err := s.db.inTx(ctx, func(tx *tx) error { return applyStageRows(ctx, tx, chunk) }); err != nil {
			rows := make([]int, len(chunk))
			for i, row := range chunk {
				rows[i] = row.Row
			}
			return nil, errors.Join(stopped(err, res.Created, rows), s.auditImport(ctx, "stage_changes", res))
		}
		res.Created += len(chunk)
	}
	return res, s.auditImport(ctx, "stage_changes", res)
}

// stageChangesToApply resolves the file's customers and checks each row's
// time against the customer's history: after their latest change, stored
// or earlier in the file, and not in the future. Rows equal to a stored
// change are skipped, so that importing a file again completes it.
func (s *ImportService) stageChangesToApply(ctx context.Context, f *rapport.StageChangeFile, r *report, res *rapport.ImportResult) ([]*rapport.StageChangeRow, error) {
	var ids, keys []string
	for _, row := range f.Rows {
		ids, keys = append(ids, row.CustomerID), append(keys, row.CustomerExternalID)
	}
	byKey, err := lookup(ctx, s.db.reader(), `SELECT external_id, id FROM customers WHERE external_id IN`, keys)
	if err != nil {
		return nil, err
	}
	stored, err := existingValues(ctx, s.readTx(), `SELECT id FROM customers WHERE id IN`, ids)
	if err != nil {
		return nil, err
	}
	for i, row := range f.Rows {
		f.Rows[i].CustomerID = resolve(r, row.Row, "customer_id", row.CustomerID, "customer_external_id", row.CustomerExternalID, byKey, stored[row.CustomerID], "customer", "external id")
		if id := f.Rows[i].CustomerID; id != "" && row.CustomerExternalID == "" && !stored[id] {
			r.add(row.Row, "customer_id", "no customer has the id %q", id)
		}
	}
	history, err := stageHistories(ctx, s.db.reader(), f.Rows)
	if err != nil {
		return nil, err
	}
	now := micros(s.db.now())
	var fresh []*rapport.StageChangeRow
	for i := range f.Rows {
		row := &f.Rows[i]
		if row.CustomerID == "" || row.Change.ChangedAt == nil {
			continue
		}
		h := history[row.CustomerID]
		at := micros(*row.Change.ChangedAt)
		switch {
		case h.has(at, row.Change.Stage):
			res.Skipped++
			continue
		case at > now:
			r.add(row.Row, "changed_at", "must not be in the future")
		case at <= h.latest:
			r.add(row.Row, "changed_at", "must be after the customer's latest stage change, at %s (stored or earlier in this file); list changes oldest first",
				fromMicros(h.latest).Format(time.RFC3339))
		default:
			h.latest = at
		}
		fresh = append(fresh, row)
	}
	return fresh, nil
}

// stageHistory is what an import needs of a customer's stage history: when
// the latest change was, and every change by time and stage.
type stageHistory struct {
	latest int64
	steps  map[int64]rapport.Stage
}

func (h *stageHistory) has(at int64, stage rapport.Stage) bool { return h.steps[at] == stage }

// stageHistories reads the stage histories of the rows' customers.
func stageHistories(ctx context.Context, q querier, rows []rapport.StageChangeRow) (map[string]*stageHistory, error) {
	out := map[string]*stageHistory{}
	var ids []any
	for _, row := range rows {
		if row.CustomerID != "" && out[row.CustomerID] == nil {
			out[row.CustomerID] = &stageHistory{steps: map[int64]rapport.Stage{}}
			ids = append(ids, row.CustomerID)
		}
	}
	err := inChunks(ids, func(chunk []any) error {
		return eachRow(ctx, q, `SELECT customer_id, to_stage, changed_at FROM stage_changes WHERE customer_id IN (`+placeholders(len(chunk))+`)`,
			chunk, func(rs *sql.Rows) error {
				var id, stage string
				var at int64
				if err := rs.Scan(&id, &stage, &at); err != nil {
					return err
				}
				h := out[id]
				h.steps[at] = rapport.Stage(stage)
				h.latest = max(h.latest, at)
				return nil
			})
	})
	return out, err
}

// applyStageRows applies checked stage changes in order and measures their
// customers again.
func applyStageRows(ctx context.Context, tx *tx, rows []*rapport.StageChangeRow) error {
	ids := make([]string, 0, len(rows))
	for _, row := range rows {
		c, err := findCustomer(ctx, tx.querier, row.CustomerID)
		if err != nil {
			return err
		}
		in := row.Change
		changed, err := changeStage(ctx, tx, c.ID, c.Stage, in.Stage, in.Reason, in.DissolutionReason, rapport.ActorID(ctx), false, micros(*in.ChangedAt))
		if err != nil {
			return err
		}
		if !changed {
			return rapport.Errorf(rapport.ECONFLICT, "The stage of customer %s changed while the file was imported.", c.ID)
		}
		ids = append(ids, c.ID)
	}
	_, err := refreshCustomers(ctx, tx, ids, false)
	return err
}
