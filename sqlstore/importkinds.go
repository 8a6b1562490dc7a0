package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/rapport-crm/rapport"
)

// Promises and holdings have no ids a file could carry: a row equal to a
// stored record (a promise to the same customer, with the same text, due
// at the same time; a holding of the same product by the same customer,
// started at the same time) is the record stored already, and skipped.

// customerRefs finds the customers a chunk's rows name, by id and by
// external id, and the users they name, by id and by email.
type customerRefs struct {
	byKey               map[string]string
	stored              map[string]bool
	staffByID, staffKey map[string]string
}

func (s *ImportService) customerRefs(ctx context.Context, ids, keys []string) (*customerRefs, error) {
	var refs customerRefs
	var err error
	if refs.byKey, err = lookup(ctx, s.db.reader(), `SELECT external_id, id FROM customers WHERE external_id IN`, keys); err != nil {
		return nil, err
	}
	if refs.stored, err = existingValues(ctx, s.readTx(), `SELECT id FROM customers WHERE id IN`, ids); err != nil {
		return nil, err
	}
	refs.staffByID, refs.staffKey, err = s.users(ctx)
	return &refs, err
}

// customer resolves a row's customer, reporting one not found.
func (c *customerRefs) customer(rep *report, line int, id, key string) string {
	id = resolve(rep, line, "customer_id", id, "customer_external_id", key, c.byKey, c.stored[id], "customer", "external id")
	if id != "" && key == "" && !c.stored[id] {
		rep.add(line, "customer_id", "no customer has the id %q", id)
		return ""
	}
	return id
}

// staff resolves a row's member of staff, reporting one not found.
func (c *customerRefs) staff(rep *report, line int, id, email string) string {
	_, exists := c.staffByID[id]
	id = resolve(rep, line, "staff_id", id, "staff_email", email, c.staffKey, exists, "user", "email")
	if id != "" && email == "" && !exists {
		rep.add(line, "staff_id", "no user has the id %q", id)
		return ""
	}
	return id
}

// liveCustomers reports which of ids name customers not erased, locking
// them when the transaction stores rows for them (as recording a moment
// does), so that an erasure meanwhile is seen.
func liveCustomers(ctx context.Context, tx *tx, ids []string, lock bool) (map[string]bool, error) {
	l := ""
	if lock {
		l = tx.d.shareLock
	}
	return existingValuesLocked(ctx, tx, `SELECT id FROM customers WHERE erased_at IS NULL AND id IN`, l, ids)
}

// importedRow is a row of a chunk resolved against the store, waiting for
// the transaction that stores it (or, checking, counts it).
type importedRow[V any] struct {
	line  int
	value V
}

// preparePromises resolves a chunk of promises; see prepare.
func (r *jobRun) preparePromises(ctx context.Context, rows []*fileRow, rep *report, c *chunkCounts, store bool) (int, func(*tx) error, error) {
	var ids, keys []string
	for _, row := range rows {
		ids, keys = append(ids, row.promise.Promise.CustomerID), append(keys, row.promise.CustomerExternalID)
	}
	refs, err := r.s.customerRefs(ctx, ids, keys)
	if err != nil {
		return 0, nil, err
	}
	var fresh []importedRow[*rapport.Promise]
	for _, row := range rows {
		p := row.promise.Promise
		p.CustomerID = refs.customer(rep, row.line, p.CustomerID, row.promise.CustomerExternalID)
		p.StaffID = refs.staff(rep, row.line, p.StaffID, row.promise.StaffEmail)
		if !rep.bad[row.line] {
			fresh = append(fresh, importedRow[*rapport.Promise]{row.line, &p})
		}
	}
	// settle leaves out the rows stored already and those whose customer
	// has gone, in the transaction that stores the rest.
	settle := func(tx *tx) ([]*rapport.Promise, error) {
		live, err := liveCustomers(ctx, tx, customerIDs(fresh, func(p *rapport.Promise) string { return p.CustomerID }), store)
		if err != nil {
			return nil, err
		}
		stored, err := storedPromises(ctx, tx, fresh)
		if err != nil {
			return nil, err
		}
		var out []*rapport.Promise
		for _, f := range fresh {
			p := f.value
			key := promiseKey(p.CustomerID, micros(p.DueAt), p.Text)
			switch {
			case !live[p.CustomerID]:
				rep.add(f.line, "customer_id", "the customer was erased or deleted")
			case stored[key]:
				c.skipped++
			default:
				stored[key] = true // a second such row in the file is the first
				out = append(out, p)
			}
		}
		return out, nil
	}
	if !store {
		ps, err := settle(r.s.readTx())
		return len(ps), nil, err
	}
	write := func(tx *tx) error {
		ps, err := settle(tx)
		if err != nil {
			return err
		}
		c.stored = len(ps)
		return insertPromises(ctx, tx, ps)
	}
	return len(fresh), write, nil
}

// customerIDs returns the customers of a chunk's rows.
func customerIDs[V any](rows []importedRow[V], of func(V) string) []string {
	out := make([]string, len(rows))
	for i, row := range rows {
		out[i] = of(row.value)
	}
	return out
}

func promiseKey(customerID string, due int64, text string) string {
	return fmt.Sprint(customerID, "\x00", due, "\x00", text)
}

// storedPromises returns the promises stored to the rows' customers, by
// promiseKey.
func storedPromises(ctx context.Context, tx *tx, rows []importedRow[*rapport.Promise]) (map[string]bool, error) {
	ids := anySet(customerIDs(rows, func(p *rapport.Promise) string { return p.CustomerID }))
	out := map[string]bool{}
	err := inChunks(ids, func(chunk []any) error {
		return eachRow(ctx, tx.querier, `SELECT customer_id, due_at, text FROM promises WHERE customer_id IN (`+placeholders(len(chunk))+`)`,
			chunk, func(rows *sql.Rows) error {
				var id, text string
				var due int64
				err := rows.Scan(&id, &due, &text)
				out[promiseKey(id, due, text)] = true
				return err
			})
	})
	return out, err
}

// anySet returns the distinct values that are not empty, as query arguments.
func anySet(values []string) []any {
	var out []any
	seen := map[string]bool{}
	for _, v := range values {
		if v != "" && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

// insertPromises stores a chunk of checked promises and counts them in
// promise_counts. A settled promise from a file is history: it records no
// misery moment and notifies no one (its moments come in a moments file).
func insertPromises(ctx context.Context, tx *tx, ps []*rapport.Promise) error {
	delta := map[promiseCount]int{}
	now := tx.now.Truncate(time.Microsecond)
	for _, p := range ps {
		p.ID = rapport.NewID(now)
		var resolved any
		if p.ResolvedAt != nil {
			resolved = micros(*p.ResolvedAt)
		}
		if _, err := tx.exec(ctx, `INSERT INTO promises (`+promiseColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			p.ID, p.CustomerID, nullString(p.StaffID), nil, p.Text, micros(p.DueAt), string(p.Status), resolved, micros(p.CreatedAt)); err != nil {
			return fmt.Errorf("store promise: %w", err)
		}
		delta[promiseCount{p.StaffID, p.Status}]++
	}
	return addPromiseCounts(ctx, tx, delta)
}

// prepareHoldings resolves a chunk of holdings; see prepare.
func (r *jobRun) prepareHoldings(ctx context.Context, rows []*fileRow, rep *report, c *chunkCounts, store bool) (int, func(*tx) error, error) {
	var ids, keys []string
	for _, row := range rows {
		ids, keys = append(ids, row.holding.Holding.CustomerID), append(keys, row.holding.CustomerExternalID)
	}
	refs, err := r.s.customerRefs(ctx, ids, keys)
	if err != nil {
		return 0, nil, err
	}
	products, err := existingValues(ctx, r.s.readTx(), `SELECT key FROM products WHERE key IN`, holdingProducts(rows))
	if err != nil {
		return 0, nil, err
	}
	var fresh []importedRow[*rapport.Holding]
	for _, row := range rows {
		h := row.holding.Holding
		h.CustomerID = refs.customer(rep, row.line, h.CustomerID, row.holding.CustomerExternalID)
		if !products[h.Product] {
			rep.add(row.line, "product", "no product has the key %q; add it first (POST /api/v1/products)", h.Product)
		}
		if !rep.bad[row.line] {
			fresh = append(fresh, importedRow[*rapport.Holding]{row.line, &h})
		}
	}
	settle := func(tx *tx) ([]*rapport.Holding, error) {
		live, err := liveCustomers(ctx, tx, customerIDs(fresh, func(h *rapport.Holding) string { return h.CustomerID }), store)
		if err != nil {
			return nil, err
		}
		held, err := storedHoldings(ctx, tx, fresh)
		if err != nil {
			return nil, err
		}
		var out []*rapport.Holding
		for _, f := range fresh {
			h := f.value
			same, overlap := held.find(h)
			switch {
			case !live[h.CustomerID]:
				rep.add(f.line, "customer_id", "the customer was erased or deleted")
			case same:
				c.skipped++
			case overlap != nil:
				rep.add(f.line, "started_at", "the customer holds %s already from %s%s; holdings of one product must not overlap",
					h.Product, overlap.StartedAt.Format(time.DateOnly), until(overlap.EndedAt))
			default:
				held.add(h)
				out = append(out, h)
			}
		}
		return out, nil
	}
	if !store {
		hs, err := settle(r.s.readTx())
		return len(hs), nil, err
	}
	write := func(tx *tx) error {
		hs, err := settle(tx)
		if err != nil {
			return err
		}
		c.stored = len(hs)
		return insertHoldings(ctx, tx, hs)
	}
	return len(fresh), write, nil
}

func holdingProducts(rows []*fileRow) []string {
	out := make([]string, len(rows))
	for i, row := range rows {
		out[i] = row.holding.Holding.Product
	}
	return out
}

func until(end *time.Time) string {
	if end == nil {
		return ""
	}
	return " to " + end.Format(time.DateOnly)
}

// heldBy is the holdings of some customers, by customer and product.
type heldBy map[string][]*rapport.Holding

func heldKey(customerID, product string) string { return customerID + "\x00" + product }

func (m heldBy) add(h *rapport.Holding) {
	k := heldKey(h.CustomerID, h.Product)
	m[k] = append(m[k], h)
}

// find reports whether h is stored already (the same start), or else a
// holding of the same product by the same customer whose time overlaps it.
func (m heldBy) find(h *rapport.Holding) (same bool, overlap *rapport.Holding) {
	const open = int64(1) << 62
	end := func(h *rapport.Holding) int64 {
		if h.EndedAt == nil {
			return open
		}
		return micros(*h.EndedAt)
	}
	for _, o := range m[heldKey(h.CustomerID, h.Product)] {
		if o.StartedAt.Equal(h.StartedAt) {
			return true, nil
		}
		if micros(o.StartedAt) < end(h) && micros(h.StartedAt) < end(o) {
			overlap = o
		}
	}
	return false, overlap
}

// storedHoldings returns the holdings of the rows' customers.
func storedHoldings(ctx context.Context, tx *tx, rows []importedRow[*rapport.Holding]) (heldBy, error) {
	ids := anySet(customerIDs(rows, func(h *rapport.Holding) string { return h.CustomerID }))
	out := heldBy{}
	err := inChunks(ids, func(chunk []any) error {
		return eachRow(ctx, tx.querier, `SELECT `+holdingColumns+` FROM holdings WHERE customer_id IN (`+placeholders(len(chunk))+`)`,
			chunk, func(rows *sql.Rows) error {
				h, err := scanHolding(rows)
				if err == nil {
					out.add(h)
				}
				return err
			})
	})
	return out, err
}

// insertHoldings stores a chunk of checked holdings, a customer at a time
// so that product_pairs follows, and measures their customers again.
func insertHoldings(ctx context.Context, tx *tx, hs []*rapport.Holding) error {
	byCustomer := map[string][]*rapport.Holding{}
	for _, h := range hs {
		byCustomer[h.CustomerID] = append(byCustomer[h.CustomerID], h)
	}
	ids := sortedKeys(byCustomer, strings.Compare)
	now := tx.now.Truncate(time.Microsecond)
	for _, id := range ids {
		err := keepProductPairs(ctx, tx, id, func() error {
			for _, h := range byCustomer[id] {
				h.ID = rapport.NewID(now)
				if _, err := tx.exec(ctx, `INSERT INTO holdings (`+holdingColumns+`) VALUES (?, ?, ?, ?, ?)`,
					h.ID, h.CustomerID, h.Product, micros(h.StartedAt), timeArg(h.EndedAt)); err != nil {
					return fmt.Errorf("store holding: %w", err)
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	_, err := refreshCustomers(ctx, tx, ids, true)
	return err
}

// timeArg is a time that may be missing, as a query argument.
func timeArg(t *time.Time) any {
	if t == nil {
		return nil
	}
	return micros(*t)
}
