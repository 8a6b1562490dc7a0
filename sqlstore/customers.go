package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/rapport-crm/rapport"
)

// CustomerService keeps customers.
type CustomerService struct{ db *DB }

// NewCustomerService returns the customers stored in db.
func NewCustomerService(db *DB) *CustomerService { return &CustomerService{db: db} }

var _ rapport.CustomerService = (*CustomerService)(nil)

const customerColumns = `id, external_id, kind, name, email, phone, attributes, preferences,
	owner_id, referred_by, stage, created_at, updated_at`

// customerReadColumns are customerColumns, when the customer was erased,
// which only EraseCustomer writes, and their language, which a bulk load
// leaves to its default.
const customerReadColumns = customerColumns + `, erased_at, language`

// FindCustomerByID returns one customer, or ENOTFOUND.
func (s *CustomerService) FindCustomerByID(ctx context.Context, id string) (*rapport.Customer, error) {
	return findCustomer(ctx, s.db.reader(), id)
}

func findCustomer(ctx context.Context, q querier, id string) (*rapport.Customer, error) {
	return findCustomerLocked(ctx, q, id, "")
}

// findCustomerLocked is findCustomer with lock (a dialect's shareLock or
// updateLock, or "").
func findCustomerLocked(ctx context.Context, q querier, id, lock string) (*rapport.Customer, error) {
	c, err := scanCustomer(q.queryRow(ctx, `SELECT `+customerReadColumns+` FROM customers WHERE id = ?`+lock, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, rapport.Errorf(rapport.ENOTFOUND, "No customer has the id %q.", id)
	}
	return c, err
}

// FindCustomers lists customers, newest first.
func (s *CustomerService) FindCustomers(ctx context.Context, f rapport.CustomerFilter) (rapport.Page[*rapport.Customer], error) {
	page := rapport.Page[*rapport.Customer]{Items: []*rapport.Customer{}}
	where, args := customerWhere(f)
	if f.Cursor != "" {
		parts, err := decodeCursor(f.Cursor, 1)
		if err != nil {
			return page, err
		}
		where, args = append(where, "id < ?"), append(args, parts[0])
	}
	limit := rapport.PageLimit(f.Limit)
	return queryPage(ctx, s.db.reader(), `SELECT `+customerReadColumns+` FROM customers WHERE `+
		strings.Join(where, " AND ")+` ORDER BY id DESC LIMIT ?`, args, limit,
		func(rows *sql.Rows) (*rapport.Customer, error) { return scanCustomer(rows) },
		func(c *rapport.Customer) string { return encodeCursor(c.ID) })
}

// customerWhere returns the conditions that select the customers a filter
// names, ignoring its page.
func customerWhere(f rapport.CustomerFilter) (where []string, args []any) {
	where = []string{"1 = 1"}
	if q := strings.TrimSpace(f.Query); q != "" {
		where, args = append(where, `search LIKE ? ESCAPE '\'`), append(args, likePattern(q))
	}
	if f.OwnerID != "" {
		where, args = append(where, "owner_id = ?"), append(args, f.OwnerID)
	}
	if f.Stage != "" {
		where, args = append(where, "stage = ?"), append(args, f.Stage)
	}
	return where, args
}

// CreateCustomer adds a customer, filling its id and times.
func (s *CustomerService) CreateCustomer(ctx context.Context, c *rapport.Customer) error {
	if err := c.Validate(); err != nil {
		return err
	}
	return s.db.inTx(ctx, func(tx *tx) error {
		if err := checkCustomerRefs(ctx, tx, c, ""); err != nil {
			return err
		}
		c.ID = ""
		if err := insertCustomer(ctx, tx, c); err != nil {
			return err
		}
		// Measured at once, so that segments see every customer from the
		// start, with their referrer, whose count of referrals has grown.
		if _, err := refreshCustomers(ctx, tx, withReferrers([]string{c.ID}, c.ReferredBy), false); err != nil {
			return err
		}
		return audit(ctx, tx, rapport.AuditCreate, "customer", c.ID, nil, c)
	})
}

// withReferrers adds to ids the referrers that are set: customers whose
// count of referrals a change has moved, to be measured again with it.
func withReferrers(ids []string, referrers ...string) []string {
	for _, r := range referrers {
		if r != "" {
			ids = append(ids, r)
		}
	}
	return ids
}

// insertCustomer adds a validated customer with their first stage, giving
// them an id unless they have one, and their times. Whoever calls it
// measures the customer (refreshCustomers) in the same transaction.
func insertCustomer(ctx context.Context, tx *tx, c *rapport.Customer) error {
	now := tx.now.Truncate(time.Microsecond)
	if c.ID == "" {
		c.ID = rapport.NewID(now)
	}
	// A customer brought in with their history keeps the day they became
	// a customer, so that their tenure and past stages are true.
	if c.CreatedAt.IsZero() {
		c.CreatedAt = now
	} else if msg := rapport.CheckCustomerSince(c.CreatedAt, now); msg != "" {
		return &rapport.Error{Code: rapport.EINVALID, Message: "The customer is not valid.",
			Fields: []rapport.FieldError{{Field: "created_at", Message: msg}}}
	}
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.Truncate(time.Microsecond), now
	attrs, prefs := marshalCustomerDocs(c)
	_, err := tx.exec(ctx, `INSERT INTO customers (`+customerColumns+`, search, language)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, nullString(c.ExternalID), c.Kind, c.Name, c.Email, c.Phone, attrs, prefs,
		nullString(c.OwnerID), nullString(c.ReferredBy), string(c.Stage), micros(c.CreatedAt), micros(c.UpdatedAt), searchText(c), c.Language)
	if tx.d.uniqueViolation(err) {
		return rapport.Errorf(rapport.ECONFLICT, "A customer with the external id %q exists already.", c.ExternalID)
	}
	if err == nil && c.Stage != "" {
		err = recordStageChange(ctx, tx, c.ID, "", c.Stage, rapport.StageReasonCreated, rapport.ActorID(ctx), c.CreatedAt)
	}
	return err
}

// UpdateCustomer changes a customer and returns it as stored.
func (s *CustomerService) UpdateCustomer(ctx context.Context, id string, u rapport.CustomerUpdate) (*rapport.Customer, error) {
	var c *rapport.Customer
	err := s.db.inTx(ctx, func(tx *tx) error {
		var err error
		if c, err = liveCustomer(ctx, tx.querier, id); err != nil {
			return err
		}
		referrer, before := c.ReferredBy, *c
		u.Apply(c)
		if err := c.Validate(); err != nil {
			return err
		}
		if err := checkCustomerRefs(ctx, tx, c, id); err != nil {
			return err
		}
		if err := recordHandover(ctx, tx, id, c.OwnerID); err != nil {
			return err
		}
		if err := audit(ctx, tx, rapport.AuditUpdate, "customer", id, &before, c); err != nil {
			return err
		}
		c.UpdatedAt = tx.now.Truncate(time.Microsecond)
		attrs, prefs := marshalCustomerDocs(c)
		_, err = tx.exec(ctx, `UPDATE customers SET external_id = ?, kind = ?, name = ?, email = ?, phone = ?,
			attributes = ?, preferences = ?, owner_id = ?, referred_by = ?, updated_at = ?, search = ?, language = ? WHERE id = ?`,
			nullString(c.ExternalID), c.Kind, c.Name, c.Email, c.Phone, attrs, prefs,
			nullString(c.OwnerID), nullString(c.ReferredBy), micros(c.UpdatedAt), searchText(c), c.Language, id)
		if tx.d.uniqueViolation(err) {
			return rapport.Errorf(rapport.ECONFLICT, "A customer with the external id %q exists already.", c.ExternalID)
		}
		if err != nil {
			return err
		}
		// Segment rules read these from the measures' copy.
		_, err = tx.exec(ctx, `UPDATE customer_measures SET kind = ?, owner_id = ?, referred_by = ? WHERE customer_id = ?`,
			c.Kind, nullString(c.OwnerID), nullString(c.ReferredBy), id)
		if err != nil || referrer == c.ReferredBy {
			return err
		}
		// The referral moved: both referrers' counts changed.
		_, err = refreshCustomers(ctx, tx, withReferrers(nil, referrer, c.ReferredBy), false)
		return err
	})
	return c, err
}

// DeleteCustomer removes a customer with their moments and history, and
// the webhook deliveries that tell of them.
func (s *CustomerService) DeleteCustomer(ctx context.Context, id string) error {
	err := s.db.inTx(ctx, func(tx *tx) error {
		c, err := findCustomer(ctx, tx.querier, id)
		if err != nil {
			return err
		}
		if err := audit(ctx, tx, rapport.AuditDelete, "customer", id, c, nil); err != nil {
			return err
		}
		if err := removeCustomerMoments(ctx, tx, id); err != nil {
			return err
		}
		if err := forgetCustomerPromises(ctx, tx, id); err != nil {
			return err
		}
		// The customer's holdings go with them, and out of the product pairs.
		err = keepProductPairs(ctx, tx, id, func() error {
			_, err := tx.exec(ctx, `DELETE FROM customers WHERE id = ?`, id)
			return err
		})
		if err != nil {
			return err
		}
		// The database forgets the referrer of those this customer referred;
		// the measures' copy follows, and the referrer has one referral less.
		if _, err := tx.exec(ctx, `UPDATE customer_measures SET referred_by = NULL WHERE referred_by = ?`, id); err != nil {
			return err
		}
		if _, err := refreshCustomers(ctx, tx, withReferrers(nil, c.ReferredBy), false); err != nil {
			return err
		}
		return forgetDeliveries(ctx, tx, id)
	})
	if err != nil {
		return err
	}
	return s.db.truncateLog(ctx)
}

// liveCustomer returns a customer who may be changed or given something
// new: ENOTFOUND when there is none, ECONFLICT when they were erased.
func liveCustomer(ctx context.Context, q querier, id string) (*rapport.Customer, error) {
	c, err := findCustomerLocked(ctx, q, id, q.d.shareLock)
	if err == nil && c.IsErased() {
		return nil, rapport.ErrErased(id)
	}
	return c, err
}

// checkCustomerRefs checks that the owner, referrer and external id of c
// (whose id is self when it exists already) are acceptable.
func checkCustomerRefs(ctx context.Context, tx *tx, c *rapport.Customer, self string) error {
	var fields []rapport.FieldError
	var n int
	if c.OwnerID != "" {
		// A deactivated user keeps the customers they own until handed
		// over, but is given no new ones.
		var deactivated sql.NullInt64
		err := tx.queryRow(ctx, `SELECT deactivated_at FROM users WHERE id = ?`, c.OwnerID).Scan(&deactivated)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			fields = append(fields, rapport.FieldError{Field: "owner_id", Message: "no user has this id"})
		case err != nil:
			return err
		case deactivated.Valid:
			var owner sql.NullString
			if self != "" {
				if err := tx.queryRow(ctx, `SELECT owner_id FROM customers WHERE id = ?`, self).Scan(&owner); err != nil && !errors.Is(err, sql.ErrNoRows) {
					return err
				}
			}
			if owner.String != c.OwnerID {
				fields = append(fields, rapport.FieldError{Field: "owner_id", Message: "this user is deactivated; choose someone active"})
			}
		}
	}
	if c.ReferredBy != "" {
		if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM customers WHERE id = ?`, c.ReferredBy).Scan(&n); err != nil {
			return err
		} else if n == 0 {
			fields = append(fields, rapport.FieldError{Field: "referred_by", Message: "no customer has this id"})
		}
	}
	if len(fields) > 0 {
		return &rapport.Error{Code: rapport.EINVALID, Message: "The customer is not valid.", Fields: fields}
	}
	if c.ExternalID != "" {
		if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM customers WHERE external_id = ? AND id <> ?`, c.ExternalID, self).Scan(&n); err != nil {
			return err
		} else if n > 0 {
			return rapport.Errorf(rapport.ECONFLICT, "A customer with the external id %q exists already.", c.ExternalID)
		}
	}
	return nil
}

func marshalCustomerDocs(c *rapport.Customer) (attrs, prefs string) {
	a, _ := json.Marshal(c.Attributes)
	p, _ := json.Marshal(c.Preferences)
	return string(a), string(p)
}

func searchText(c *rapport.Customer) string {
	return strings.ToLower(strings.Join([]string{c.Name, c.Email, c.Phone, c.ExternalID}, " "))
}

func scanCustomer(row interface{ Scan(...any) error }) (*rapport.Customer, error) {
	var (
		c                        rapport.Customer
		externalID, owner, refBy sql.NullString
		attrs, prefs             string
		createdAt, updatedAt     int64
		erasedAt                 sql.NullInt64
	)
	if err := row.Scan(&c.ID, &externalID, &c.Kind, &c.Name, &c.Email, &c.Phone, &attrs, &prefs,
		&owner, &refBy, &c.Stage, &createdAt, &updatedAt, &erasedAt, &c.Language); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(attrs), &c.Attributes); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(prefs), &c.Preferences); err != nil {
		return nil, err
	}
	c.ExternalID, c.OwnerID, c.ReferredBy = externalID.String, owner.String, refBy.String
	c.CreatedAt, c.UpdatedAt, c.ErasedAt = fromMicros(createdAt), fromMicros(updatedAt), timePtr(erasedAt)
	return &c, nil
}

// recordStageChange keeps one step of a customer's relationship history.
func recordStageChange(ctx context.Context, tx *tx, customerID string, from, to rapport.Stage, reason, by string, at time.Time) error {
	_, err := tx.exec(ctx, `INSERT INTO stage_changes (id, customer_id, from_stage, to_stage, reason, changed_by, changed_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, rapport.NewID(tx.now), customerID, string(from), string(to), reason, by, micros(at))
	return err
}
