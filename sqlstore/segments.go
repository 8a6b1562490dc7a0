package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/segment"
)

// SegmentService keeps segments and evaluates their rules, compiled to SQL
// over customer_measures m, which holds every measured customer's figures
// and a copy of the profile fields rules test; only a rule on custom
// attributes joins customers c as well.
type SegmentService struct{ db *DB }

// NewSegmentService returns the segments kept in db.
func NewSegmentService(db *DB) *SegmentService { return &SegmentService{db: db} }

var _ rapport.SegmentService = (*SegmentService)(nil)

const segmentColumns = `id, name, rule, created_by, created_at, updated_at, size, counted_at`

// segmentFrom is what a compiled rule reads: the measures alone, and the
// customers only when the rule needs them.
func segmentFrom(q segment.Query) string {
	if q.Customers {
		return segmentJoin
	}
	return ` FROM customer_measures m`
}

// segmentJoin is the measures with their customers.
const segmentJoin = ` FROM customer_measures m JOIN customers c ON c.id = m.customer_id`

// qualifiedCustomerColumns are customerReadColumns of customers c.
var qualifiedCustomerColumns = func() string {
	cols := splitColumns(customerReadColumns)
	for i, c := range cols {
		cols[i] = "c." + c
	}
	return strings.Join(cols, ", ")
}()

// RuleError turns a rule's parse error into an application error naming
// the field rule and the position.
func RuleError(err error) error {
	var e *segment.Error
	if !errors.As(err, &e) {
		return err
	}
	return &rapport.Error{Code: rapport.EINVALID, Message: "The rule is not valid: " + e.Error() + ".",
		Fields: []rapport.FieldError{{Field: "rule", Message: e.Error()}}}
}

// compileRule parses and compiles a rule for this database.
func (db *DB) compileRule(rule string) (segment.Query, error) {
	r, err := segment.Parse(rule)
	if err != nil {
		return segment.Query{}, RuleError(err)
	}
	contains := func(col string) string { return "instr(" + col + ", ?) > 0" }
	if db.dialect.name == "postgres" {
		contains = func(col string) string { return "strpos(" + col + ", ?) > 0" }
	}
	q, err := r.Compile(segment.Options{Now: db.now(), Contains: contains})
	if err != nil {
		return q, RuleError(err)
	}
	return q, nil
}

// CreateSegment checks and stores a new segment.
func (s *SegmentService) CreateSegment(ctx context.Context, sg *rapport.Segment) error {
	if err := sg.Validate(); err != nil {
		return err
	}
	// Counted before the write, on the read pool, so that a long count
	// never holds up other writers.
	n, err := s.count(ctx, sg.Rule)
	if err != nil {
		return err
	}
	return s.db.inTx(ctx, func(tx *tx) error {
		now := tx.now.Truncate(time.Microsecond)
		sg.ID, sg.CreatedBy, sg.CreatedAt, sg.UpdatedAt = rapport.NewID(now), rapport.ActorID(ctx), now, now
		sg.Size, sg.CountedAt = &n, &now
		_, err := tx.exec(ctx, `INSERT INTO segments (`+segmentColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			sg.ID, sg.Name, sg.Rule, sg.CreatedBy, micros(now), micros(now), n, micros(now))
		if tx.d.uniqueViolation(err) {
			return rapport.Errorf(rapport.ECONFLICT, "A segment named %q exists already.", sg.Name)
		}
		if err != nil {
			return err
		}
		return audit(ctx, tx, rapport.AuditCreate, "segment", sg.ID, nil, segmentDefinition(sg))
	})
}

// segmentDefinition is what the audit log compares of a segment: its
// counts change with the customers, not by anyone's hand.
func segmentDefinition(sg *rapport.Segment) map[string]any {
	return map[string]any{"name": sg.Name, "rule": sg.Rule}
}

// FindSegments lists every segment by name, with its size as last counted.
func (s *SegmentService) FindSegments(ctx context.Context) ([]*rapport.Segment, error) {
	out := []*rapport.Segment{}
	err := eachRow(ctx, s.db.reader(), `SELECT `+segmentColumns+` FROM segments ORDER BY name, id`, nil, func(rows *sql.Rows) error {
		sg, err := scanSegment(rows)
		out = append(out, sg)
		return err
	})
	return out, err
}

// FindSegment returns a segment with its size as last counted.
func (s *SegmentService) FindSegment(ctx context.Context, id string) (*rapport.Segment, error) {
	return findSegment(ctx, s.db.reader(), id)
}

// FindSegmentByID returns a segment with how many customers match it now.
func (s *SegmentService) FindSegmentByID(ctx context.Context, id string) (*rapport.Segment, error) {
	sg, err := findSegment(ctx, s.db.reader(), id)
	if err != nil {
		return nil, err
	}
	n, err := s.count(ctx, sg.Rule)
	if err != nil {
		return nil, err
	}
	now := s.db.now().Truncate(time.Microsecond)
	sg.Size, sg.CountedAt = &n, &now
	return sg, nil
}

func findSegment(ctx context.Context, q querier, id string) (*rapport.Segment, error) {
	sg, err := scanSegment(q.queryRow(ctx, `SELECT `+segmentColumns+` FROM segments WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, rapport.Errorf(rapport.ENOTFOUND, "No segment has the id %q.", id)
	}
	return sg, err
}

func scanSegment(row interface{ Scan(...any) error }) (*rapport.Segment, error) {
	var sg rapport.Segment
	var created, updated int64
	var size, counted sql.NullInt64
	if err := row.Scan(&sg.ID, &sg.Name, &sg.Rule, &sg.CreatedBy, &created, &updated, &size, &counted); err != nil {
		return nil, err
	}
	sg.CreatedAt, sg.UpdatedAt = fromMicros(created), fromMicros(updated)
	if size.Valid && counted.Valid {
		n := int(size.Int64)
		sg.Size, sg.CountedAt = &n, timePtr(counted)
	}
	return &sg, nil
}

// UpdateSegment renames a segment or changes its rule, and counts it again.
func (s *SegmentService) UpdateSegment(ctx context.Context, id string, u rapport.SegmentUpdate) (*rapport.Segment, error) {
	var sg *rapport.Segment
	var size *int
	if u.Rule != nil {
		// Counted before the write, as in CreateSegment; a rule that does not
		// compile is refused below.
		if n, err := s.count(ctx, *u.Rule); err == nil {
			size = &n
		}
	}
	err := s.db.inTx(ctx, func(tx *tx) error {
		var err error
		if sg, err = findSegment(ctx, tx.querier, id); err != nil {
			return err
		}
		before := segmentDefinition(sg)
		if u.Name != nil {
			sg.Name = *u.Name
		}
		if u.Rule != nil {
			sg.Rule = *u.Rule
		}
		if err := sg.Validate(); err != nil {
			return err
		}
		if _, err := s.db.compileRule(sg.Rule); err != nil {
			return err
		}
		sg.UpdatedAt = tx.now.Truncate(time.Microsecond)
		if size != nil {
			sg.Size, sg.CountedAt = size, &sg.UpdatedAt
		}
		var counted any
		if sg.CountedAt != nil {
			counted = micros(*sg.CountedAt)
		}
		var n any
		if sg.Size != nil {
			n = *sg.Size
		}
		_, err = tx.exec(ctx, `UPDATE segments SET name = ?, rule = ?, updated_at = ?, size = ?, counted_at = ? WHERE id = ?`,
			sg.Name, sg.Rule, micros(sg.UpdatedAt), n, counted, id)
		if tx.d.uniqueViolation(err) {
			return rapport.Errorf(rapport.ECONFLICT, "A segment named %q exists already.", sg.Name)
		}
		if err != nil {
			return err
		}
		return audit(ctx, tx, rapport.AuditUpdate, "segment", id, before, segmentDefinition(sg))
	})
	return sg, err
}

// DeleteSegment removes a segment; its customers are untouched.
func (s *SegmentService) DeleteSegment(ctx context.Context, id string) error {
	return s.db.inTx(ctx, func(tx *tx) error {
		sg, err := findSegment(ctx, tx.querier, id)
		if err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `DELETE FROM segments WHERE id = ?`, id); err != nil {
			return err
		}
		return audit(ctx, tx, rapport.AuditDelete, "segment", id, segmentDefinition(sg), nil)
	})
}

// CountSegments counts every segment again, each on the read pool and then
// stored in a short write of its own.
func (s *SegmentService) CountSegments(ctx context.Context) (int, error) {
	sgs, err := s.FindSegments(ctx)
	if err != nil {
		return 0, err
	}
	counted := 0
	for _, sg := range sgs {
		n, err := s.count(ctx, sg.Rule)
		if err != nil {
			return counted, err
		}
		err = s.db.inTx(ctx, func(tx *tx) error {
			// A rule changed meanwhile was counted by that change.
			_, err := tx.exec(ctx, `UPDATE segments SET size = ?, counted_at = ? WHERE id = ? AND rule = ?`,
				n, micros(tx.now), sg.ID, sg.Rule)
			return err
		})
		if err != nil {
			return counted, err
		}
		counted++
	}
	return counted, nil
}

// SegmentMembers lists the customers who match a segment now, newest first.
func (s *SegmentService) SegmentMembers(ctx context.Context, id string, limit int, cursor string) (rapport.Page[*rapport.SegmentMember], error) {
	sg, err := findSegment(ctx, s.db.reader(), id)
	if err != nil {
		return rapport.Page[*rapport.SegmentMember]{Items: []*rapport.SegmentMember{}}, err
	}
	newest := false
	if sg.Size != nil {
		if newest, err = s.commonAmongCustomers(ctx, *sg.Size); err != nil {
			return rapport.Page[*rapport.SegmentMember]{Items: []*rapport.SegmentMember{}}, err
		}
	}
	return s.members(ctx, sg.Rule, limit, cursor, newest)
}

// commonAmongCustomers says whether a segment of size members, as last
// counted, holds at least one customer in a hundred, so that a page of its
// members is found among the newest few thousand customers. SQLite keeps no
// statistics and, for a rule that names an indexed figure (stage = …,
// risk >= …), reads every customer that figure matches and sorts them, a
// cost that grows with the firm: at 33,000 customers a page of "stage =
// commitment and risk >= 40" read 9,500 rows to show 50. For a common
// segment, reading customers newest first and stopping at the page costs
// the same at any size; for a rare one the planner's choice stays.
func (s *SegmentService) commonAmongCustomers(ctx context.Context, size int) (bool, error) {
	if s.db.dialect.name != "sqlite" || size == 0 {
		return false, nil
	}
	// The highest row number is the number of customers ever measured, a
	// bound read from the end of the table.
	var customers sql.NullInt64
	if err := s.db.reader().queryRow(ctx, `SELECT MAX(rowid) FROM customer_measures`).Scan(&customers); err != nil {
		return false, err
	}
	return int64(size)*100 >= customers.Int64, nil
}

// PreviewSegment evaluates a rule without saving it: its size and first page.
func (s *SegmentService) PreviewSegment(ctx context.Context, rule string, limit int) (*rapport.SegmentPreview, error) {
	rule = strings.TrimSpace(rule)
	if len(rule) > rapport.MaxRuleLength {
		return nil, &rapport.Error{Code: rapport.EINVALID, Message: "The rule is too long.",
			Fields: []rapport.FieldError{{Field: "rule", Message: "must be at most 4000 bytes"}}}
	}
	// The count and the first page each read on their own connection of
	// the read pool, at once: each may read most customers.
	var (
		n              int
		page           rapport.Page[*rapport.SegmentMember]
		countErr, pErr error
		wg             sync.WaitGroup
	)
	wg.Go(func() { n, countErr = s.count(ctx, rule) })
	wg.Go(func() { page, pErr = s.members(ctx, rule, limit, "", false) })
	wg.Wait()
	if countErr != nil {
		return nil, countErr
	}
	if pErr != nil {
		return nil, pErr
	}
	return &rapport.SegmentPreview{Rule: rule, Size: n, Members: page}, nil
}

func (s *SegmentService) count(ctx context.Context, rule string) (int, error) {
	q, err := s.db.compileRule(rule)
	if err != nil {
		return 0, err
	}
	var n int
	err = s.db.reader().queryRow(ctx, `SELECT COUNT(*)`+segmentFrom(q)+` WHERE `+q.Where, q.Args...).Scan(&n)
	return n, err
}

// members reads a page of a rule's members, newest customers first; with
// newest, SQLite is told to read the customers in that order and stop at the
// page rather than start from an index a term of the rule names.
func (s *SegmentService) members(ctx context.Context, rule string, limit int, cursor string, newest bool) (rapport.Page[*rapport.SegmentMember], error) {
	page := rapport.Page[*rapport.SegmentMember]{Items: []*rapport.SegmentMember{}}
	q, err := s.db.compileRule(rule)
	if err != nil {
		return page, err
	}
	where, args := q.Where, q.Args
	if cursor != "" {
		parts, err := decodeCursor(cursor, 1)
		if err != nil {
			return page, err
		}
		where, args = "("+where+") AND m.customer_id < ?", append(args, parts[0])
	}
	limit = rapport.PageLimit(limit)
	from := segmentJoin
	if newest {
		from = ` FROM customer_measures m INDEXED BY sqlite_autoindex_customer_measures_1 JOIN customers c ON c.id = m.customer_id`
	}
	err = eachRow(ctx, s.db.reader(), `SELECT `+qualifiedCustomerColumns+`, m.health, m.risk`+from+
		` WHERE `+where+` ORDER BY m.customer_id DESC LIMIT ?`, append(args, limit+1), func(rows *sql.Rows) error {
		var health, risk sql.NullInt64
		c, err := scanCustomer(withExtra{rows, []any{&health, &risk}})
		if err != nil {
			return err
		}
		page.Items = append(page.Items, &rapport.SegmentMember{Customer: c, Health: intPtr(health), Risk: intPtr(risk)})
		return nil
	})
	if err != nil {
		return page, err
	}
	if len(page.Items) > limit {
		page.Items = page.Items[:limit]
		page.NextCursor = encodeCursor(page.Items[limit-1].ID)
	}
	return page, nil
}

// segmentCustomers returns SQL selecting the ids of a segment's customers
// now, with its arguments and the segment, or "" when id is empty.
func (db *DB) segmentCustomers(ctx context.Context, q querier, id string) (string, []any, *rapport.SegmentRef, error) {
	if id == "" {
		return "", nil, nil, nil
	}
	sg, err := findSegment(ctx, q, id)
	if err != nil {
		return "", nil, nil, err
	}
	cq, err := db.compileRule(sg.Rule)
	if err != nil {
		return "", nil, nil, err
	}
	return `SELECT m.customer_id` + segmentFrom(cq) + ` WHERE ` + cq.Where, cq.Args, &rapport.SegmentRef{ID: sg.ID, Name: sg.Name, Rule: sg.Rule}, nil
}
