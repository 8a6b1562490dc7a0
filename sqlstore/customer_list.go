package sqlstore

import (
	"context"
	"database/sql"
	"slices"
	"strings"

	"github.com/rapport-crm/rapport"
)

// CustomerListService reads the customer list from the measures kept per
// customer: each filter and order is a column of customer_measures (or the
// customer's name), indexed, so no moment is read.
type CustomerListService struct{ db *DB }

// NewCustomerListService returns the customer list of the customers in db.
func NewCustomerListService(db *DB) *CustomerListService { return &CustomerListService{db: db} }

var _ rapport.CustomerListService = (*CustomerListService)(nil)

// customerListOrder is each order's SQL; customers never measured and
// never in touch come last whichever way the list runs.
var customerListOrder = map[rapport.CustomerSort]string{
	rapport.SortName:             "lower(c.name), c.id",
	"-" + rapport.SortName:       "lower(c.name) DESC, c.id DESC",
	rapport.SortRisk:             "m.risk DESC, c.id",
	"-" + rapport.SortRisk:       "m.risk, c.id",
	rapport.SortHealth:           "m.health DESC, c.id",
	"-" + rapport.SortHealth:     "m.health, c.id",
	rapport.SortLastMoment:       "m.last_moment_at IS NULL, m.last_moment_at DESC, c.id",
	"-" + rapport.SortLastMoment: "m.last_moment_at IS NULL, m.last_moment_at, c.id",
}

// ListCustomers returns a page of the customers a filter selects, in its
// order, and how many it selects in all.
func (s *CustomerListService) ListCustomers(ctx context.Context, f rapport.CustomerListFilter) (*rapport.CustomerList, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	q := s.db.reader()
	from, args, err := s.customerListFrom(ctx, q, f)
	if err != nil {
		return nil, err
	}
	list := &rapport.CustomerList{Rows: []rapport.CustomerListRow{}}
	if err := q.queryRow(ctx, `SELECT COUNT(*)`+from, args...).Scan(&list.Total); err != nil {
		return nil, err
	}
	_, err = customerListPage(ctx, q, from, args, f.Sort, rapport.PageLimit(f.Limit), f.Offset, func(r *rapport.CustomerListRow) error {
		list.Rows = append(list.Rows, *r)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return list, nil
}

// EachListedCustomer passes every customer the filter selects to each, in
// the filter's order, a page at a time; the filter's limit and offset are
// not used.
func (s *CustomerListService) EachListedCustomer(ctx context.Context, f rapport.CustomerListFilter, each func(*rapport.CustomerListRow) error) error {
	if err := f.Validate(); err != nil {
		return err
	}
	q := s.db.reader()
	from, args, err := s.customerListFrom(ctx, q, f)
	if err != nil {
		return err
	}
	for offset := 0; ; offset += rapport.MaxPageSize {
		n, err := customerListPage(ctx, q, from, args, f.Sort, rapport.MaxPageSize, offset, each)
		if err != nil || n < rapport.MaxPageSize {
			return err
		}
	}
}

// customerListFrom is the FROM and WHERE of the customers a filter selects.
func (s *CustomerListService) customerListFrom(ctx context.Context, q querier, f rapport.CustomerListFilter) (string, []any, error) {
	where, args, err := s.customerListWhere(ctx, q, f)
	if err != nil {
		return "", nil, err
	}
	return ` FROM customer_measures m JOIN customers c ON c.id = m.customer_id WHERE ` + strings.Join(where, " AND "), args, nil
}

// customerListPage passes one page of the list to each and says how many
// rows it had.
func customerListPage(ctx context.Context, q querier, from string, args []any, sort rapport.CustomerSort, limit, offset int, each func(*rapport.CustomerListRow) error) (int, error) {
	n := 0
	err := eachRow(ctx, q, `SELECT c.id, c.name, c.kind, c.email, c.stage, c.owner_id, m.health, m.risk, m.last_moment_at, c.erased_at`+from+
		` ORDER BY `+customerListOrder[sort]+` LIMIT ? OFFSET ?`, append(slices.Clip(args), limit, offset), func(rows *sql.Rows) error {
		var r rapport.CustomerListRow
		var owner sql.NullString
		var health, risk, last, erased sql.NullInt64
		if err := rows.Scan(&r.ID, &r.Name, &r.Kind, &r.Email, &r.Stage, &owner, &health, &risk, &last, &erased); err != nil {
			return err
		}
		r.OwnerID, r.Health, r.Risk, r.LastMomentAt, r.Erased = owner.String, intPtr(health), intPtr(risk), timePtr(last), erased.Valid
		n++
		return each(&r)
	})
	return n, err
}

// customerListWhere returns the conditions a filter sets, on the measures
// m and the customers c.
func (s *CustomerListService) customerListWhere(ctx context.Context, q querier, f rapport.CustomerListFilter) ([]string, []any, error) {
	where, args := []string{"1 = 1"}, []any{}
	if f.Query != "" {
		where, args = append(where, `c.search LIKE ? ESCAPE '\'`), append(args, likePattern(f.Query))
	}
	if f.Stage != "" {
		where, args = append(where, "m.stage = ?"), append(args, string(f.Stage))
	}
	switch f.OwnerID {
	case "":
	case rapport.NoOwner:
		where = append(where, "m.owner_id IS NULL")
	default:
		where, args = append(where, "m.owner_id = ?"), append(args, f.OwnerID)
	}
	for _, b := range []struct {
		col  string
		band rapport.Band
	}{{"m.health", f.Health}, {"m.risk", f.Risk}} {
		if b.band != "" {
			lo, hi := b.band.Range()
			where, args = append(where, b.col+" BETWEEN ? AND ?"), append(args, lo, hi)
		}
	}
	if f.SegmentID != "" {
		members, margs, _, err := s.db.segmentCustomers(ctx, q, f.SegmentID)
		if err != nil {
			return nil, nil, err
		}
		where, args = append(where, "m.customer_id IN ("+members+")"), append(args, margs...)
	}
	return where, args, nil
}
