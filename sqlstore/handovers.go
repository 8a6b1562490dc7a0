package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/rapport-crm/rapport"
)

// HandoverService changes customers' owners as one step, with what moves
// with them, and lists the first contacts each new owner has to make.
type HandoverService struct{ db *DB }

// NewHandoverService returns the handovers kept in db.
func NewHandoverService(db *DB) *HandoverService { return &HandoverService{db: db} }

var _ rapport.HandoverService = (*HandoverService)(nil)

// HandOver changes the owner of the customers the input names, in one
// transaction: each change is kept as a handover with the note, audited,
// and copied to the customer's measures (segment rules read the owner
// there); the open promises and cases move if asked.
func (s *HandoverService) HandOver(ctx context.Context, in rapport.HandoverInput) (*rapport.HandoverResult, error) {
	if err := in.Validate(s.db.now()); err != nil {
		return nil, err
	}
	res := &rapport.HandoverResult{Customers: []string{}}
	err := s.db.inTx(ctx, func(tx *tx) error {
		if err := checkUser(ctx, tx, "to_owner", in.ToOwner); err != nil {
			return err
		}
		var deactivated sql.NullInt64
		if err := tx.queryRow(ctx, `SELECT deactivated_at FROM users WHERE id = ?`, in.ToOwner).Scan(&deactivated); err != nil {
			return err
		}
		if deactivated.Valid {
			return &rapport.Error{Code: rapport.EINVALID, Message: "The handover is not valid.",
				Fields: []rapport.FieldError{{Field: "to_owner", Message: "this user is deactivated; hand over to someone active"}}}
		}
		ids, err := s.handedCustomers(ctx, tx, in)
		if err != nil {
			return err
		}
		moved := map[promiseCount]int{}
		for _, id := range ids {
			var owner sql.NullString
			if err := tx.queryRow(ctx, `SELECT owner_id FROM customers WHERE id = ?`, id).Scan(&owner); err != nil {
				return err
			}
			if owner.String == in.ToOwner {
				continue
			}
			if err := handOne(ctx, tx, id, owner.String, in, res, moved); err != nil {
				return err
			}
			res.Customers = append(res.Customers, id)
		}
		return addPromiseCounts(ctx, tx, moved)
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// checkUser refuses an id no user has, naming the field.
func checkUser(ctx context.Context, tx *tx, field, id string) error {
	var n int
	if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM users WHERE id = ?`, id).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return &rapport.Error{Code: rapport.EINVALID, Message: "The handover is not valid.",
			Fields: []rapport.FieldError{{Field: field, Message: "no user has this id"}}}
	}
	return nil
}

// handedCustomers returns the ids of the customers the input names.
func (s *HandoverService) handedCustomers(ctx context.Context, tx *tx, in rapport.HandoverInput) ([]string, error) {
	switch {
	case in.Segment != "":
		query, args, _, err := s.db.segmentCustomers(ctx, tx.querier, in.Segment)
		if rapport.ErrorCode(err) == rapport.ENOTFOUND {
			return nil, &rapport.Error{Code: rapport.EINVALID, Message: "The handover is not valid.",
				Fields: []rapport.FieldError{{Field: "segment", Message: "no segment has this id"}}}
		}
		if err != nil {
			return nil, err
		}
		return queryIDs(ctx, tx.querier, query+` ORDER BY m.customer_id`, args...)
	case in.FromOwner != "":
		if err := checkUser(ctx, tx, "from_owner", in.FromOwner); err != nil {
			return nil, err
		}
		return queryIDs(ctx, tx.querier, `SELECT id FROM customers WHERE owner_id = ? ORDER BY id`, in.FromOwner)
	}
	var fields []rapport.FieldError
	seen := map[string]bool{}
	var ids []string
	for i, id := range in.CustomerIDs {
		if _, err := liveCustomer(ctx, tx.querier, id); rapport.ErrorCode(err) == rapport.ENOTFOUND {
			fields = append(fields, rapport.NewFieldError(i, "customer_ids", "no customer has the id %q", id))
			continue
		} else if err != nil {
			return nil, err
		}
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	if len(fields) > 0 {
		return nil, &rapport.Error{Code: rapport.EINVALID, Message: "The handover is not valid.", Fields: fields}
	}
	return ids, nil
}

// handOne hands one customer from owner to the input's new owner.
func handOne(ctx context.Context, tx *tx, id, owner string, in rapport.HandoverInput, res *rapport.HandoverResult, moved map[promiseCount]int) error {
	now := micros(tx.now)
	if _, err := tx.exec(ctx, `INSERT INTO handovers (id, customer_id, from_owner, to_owner, handed_by, handed_at, note) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		rapport.NewID(tx.now), id, nullString(owner), in.ToOwner, rapport.ActorID(ctx), micros(in.At), in.Note); err != nil {
		return err
	}
	if _, err := tx.exec(ctx, `UPDATE customers SET owner_id = ?, updated_at = ? WHERE id = ?`, in.ToOwner, now, id); err != nil {
		return err
	}
	if _, err := tx.exec(ctx, `UPDATE customer_measures SET owner_id = ? WHERE customer_id = ?`, in.ToOwner, id); err != nil {
		return err
	}
	if err := audit(ctx, tx, rapport.AuditUpdate, "customer", id, map[string]any{"owner_id": owner},
		map[string]any{"owner_id": in.ToOwner}); err != nil {
		return err
	}
	if in.MovePromises && owner != "" {
		r, err := tx.exec(ctx, `UPDATE promises SET staff_id = ? WHERE customer_id = ? AND status = ? AND staff_id = ?`,
			in.ToOwner, id, string(rapport.PromiseOpen), owner)
		if err != nil {
			return err
		}
		n, _ := r.RowsAffected()
		res.Promises += int(n)
		moved[promiseCount{owner, rapport.PromiseOpen}] -= int(n)
		moved[promiseCount{in.ToOwner, rapport.PromiseOpen}] += int(n)
	}
	if in.MoveCases && owner != "" {
		n, err := moveCases(ctx, tx, id, owner, in.ToOwner)
		if err != nil {
			return err
		}
		res.Cases += n
	}
	return nil
}

// moveCases assigns a customer's open cases held by from to to, each with
// the assignment in its history.
func moveCases(ctx context.Context, tx *tx, customerID, from, to string) (int, error) {
	ids, err := queryIDs(ctx, tx.querier, `SELECT id FROM recovery_cases WHERE customer_id = ? AND status = ? AND assignee_id = ? ORDER BY id`,
		customerID, string(rapport.CaseOpen), from)
	if err != nil {
		return 0, err
	}
	var name string
	if err := tx.queryRow(ctx, `SELECT name FROM users WHERE id = ?`, to).Scan(&name); err != nil {
		return 0, err
	}
	for _, id := range ids {
		if _, err := tx.exec(ctx, `UPDATE recovery_cases SET assignee_id = ?, queue = '', updated_at = ? WHERE id = ?`,
			to, micros(tx.now), id); err != nil {
			return 0, err
		}
		if err := addCaseAction(ctx, tx, id, rapport.ActionAssigned, rapport.AssignmentNote(name, "")+" with the customer", rapport.ActorID(ctx)); err != nil {
			return 0, err
		}
	}
	return len(ids), nil
}

// FirstContacts lists the customers handed to ownerID in the last
// FirstContactDays whom they own still and have recorded no moment with
// since, oldest handover first.
func (s *HandoverService) FirstContacts(ctx context.Context, ownerID string, limit int) ([]*rapport.FirstContact, error) {
	out := []*rapport.FirstContact{}
	since := micros(s.db.now().Add(-rapport.FirstContactDays * 24 * time.Hour))
	err := eachRow(ctx, s.db.reader(), `SELECT h.customer_id, c.name, COALESCE(f.name, ''), h.handed_at, h.note
		FROM handovers h JOIN customers c ON c.id = h.customer_id AND c.owner_id = h.to_owner
		LEFT JOIN users f ON f.id = h.from_owner
		WHERE h.to_owner = ? AND h.handed_at >= ?
		AND NOT EXISTS (SELECT 1 FROM handovers h2 WHERE h2.customer_id = h.customer_id AND h2.handed_at > h.handed_at)
		AND NOT EXISTS (SELECT 1 FROM moments m WHERE m.customer_id = h.customer_id AND m.staff_id = h.to_owner AND m.recorded_at >= h.handed_at)
		ORDER BY h.handed_at, h.id LIMIT ?`, []any{ownerID, since, rapport.PageLimit(limit)}, func(rows *sql.Rows) error {
		var fc rapport.FirstContact
		var at int64
		if err := rows.Scan(&fc.CustomerID, &fc.Name, &fc.FromName, &at, &fc.Note); err != nil {
			return err
		}
		fc.HandedAt = fromMicros(at)
		out = append(out, &fc)
		return nil
	})
	if errors.Is(err, sql.ErrNoRows) {
		err = nil
	}
	return out, err
}
