package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/rapport-crm/rapport"
)

// HoldingService keeps products, customers' holdings of them, referrals
// between customers, and the cross-sell suggestions that follow from what
// customers hold together.
type HoldingService struct{ db *DB }

// NewHoldingService returns the products and holdings kept in db.
func NewHoldingService(db *DB) *HoldingService { return &HoldingService{db: db} }

var _ rapport.HoldingService = (*HoldingService)(nil)

const holdingColumns = `id, customer_id, product, started_at, ended_at`

// FindProducts returns every product, by key.
func (s *HoldingService) FindProducts(ctx context.Context) ([]*rapport.Product, error) {
	out := []*rapport.Product{}
	err := eachRow(ctx, s.db.reader(), `SELECT key, name, created_at FROM products ORDER BY key`, nil, func(rows *sql.Rows) error {
		var p rapport.Product
		var at int64
		if err := rows.Scan(&p.Key, &p.Name, &at); err != nil {
			return err
		}
		p.CreatedAt = fromMicros(at)
		out = append(out, &p)
		return nil
	})
	return out, err
}

// CreateProduct adds a product to the catalogue.
func (s *HoldingService) CreateProduct(ctx context.Context, p *rapport.Product) error {
	if err := p.Validate(); err != nil {
		return err
	}
	return s.db.inTx(ctx, func(tx *tx) error {
		p.CreatedAt = tx.now.Truncate(time.Microsecond)
		_, err := tx.exec(ctx, `INSERT INTO products (key, name, created_at) VALUES (?, ?, ?)`, p.Key, p.Name, micros(p.CreatedAt))
		if tx.d.uniqueViolation(err) {
			return rapport.Errorf(rapport.ECONFLICT, "A product with the key %q exists already.", p.Key)
		}
		if err != nil {
			return err
		}
		return audit(ctx, tx, rapport.AuditCreate, "product", p.Key, nil, p)
	})
}

// FindHoldings returns a customer's holdings, newest first.
func (s *HoldingService) FindHoldings(ctx context.Context, customerID string) ([]*rapport.Holding, error) {
	q := s.db.reader()
	if _, err := findCustomer(ctx, q, customerID); err != nil {
		return nil, err
	}
	return collect(ctx, q, `SELECT `+holdingColumns+` FROM holdings WHERE customer_id = ? ORDER BY started_at DESC, id DESC`,
		[]any{customerID}, scanHolding)
}

func scanHolding(row interface{ Scan(...any) error }) (*rapport.Holding, error) {
	var h rapport.Holding
	var started int64
	var ended sql.NullInt64
	if err := row.Scan(&h.ID, &h.CustomerID, &h.Product, &started, &ended); err != nil {
		return nil, err
	}
	h.StartedAt, h.EndedAt = fromMicros(started), timePtr(ended)
	return &h, nil
}

// AddHolding records that a customer holds a product from in.StartedAt (now
// when zero). A product the customer holds already cannot be added again
// until that holding ends. The customer's measures and stage follow at once.
func (s *HoldingService) AddHolding(ctx context.Context, customerID string, in rapport.HoldingInput) (*rapport.Holding, error) {
	var h *rapport.Holding
	err := s.db.inTx(ctx, func(tx *tx) error {
		if _, err := liveCustomer(ctx, tx.querier, customerID); err != nil {
			return err
		}
		now := tx.now.Truncate(time.Microsecond)
		started := in.StartedAt.UTC().Truncate(time.Microsecond)
		if in.StartedAt.IsZero() {
			started = now
		}
		var fields []rapport.FieldError
		var n int
		if in.Product == "" {
			fields = append(fields, rapport.FieldError{Field: "product", Message: "is required"})
		} else if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM products WHERE key = ?`, in.Product).Scan(&n); err != nil {
			return err
		} else if n == 0 {
			fields = append(fields, rapport.FieldError{Field: "product", Message: "no product has this key; GET /api/v1/products lists them"})
		}
		if started.After(now.Add(rapport.MaxClockSkew)) {
			fields = append(fields, rapport.FieldError{Field: "started_at", Message: "is more than a day in the future"})
		} else if started.Year() < 1970 {
			fields = append(fields, rapport.FieldError{Field: "started_at", Message: "is before 1970"})
		}
		if len(fields) > 0 {
			return &rapport.Error{Code: rapport.EINVALID, Message: "The holding is not valid.", Fields: fields}
		}
		err := tx.queryRow(ctx, `SELECT COUNT(*) FROM holdings WHERE customer_id = ? AND product = ?
			AND (ended_at IS NULL OR ended_at > ?)`, customerID, in.Product, micros(started)).Scan(&n)
		if err != nil {
			return err
		}
		if n > 0 {
			return rapport.Errorf(rapport.ECONFLICT, "The customer holds %s already; end that holding first.", in.Product)
		}
		h = &rapport.Holding{ID: rapport.NewID(now), CustomerID: customerID, Product: in.Product, StartedAt: started}
		err = keepProductPairs(ctx, tx, customerID, func() error {
			_, err := tx.exec(ctx, `INSERT INTO holdings (`+holdingColumns+`) VALUES (?, ?, ?, ?, NULL)`,
				h.ID, h.CustomerID, h.Product, micros(h.StartedAt))
			return err
		})
		if err != nil {
			return err
		}
		if _, err = refreshCustomers(ctx, tx, []string{customerID}, true); err != nil {
			return err
		}
		return audit(ctx, tx, rapport.AuditCreate, "holding", h.ID, nil, h)
	})
	return h, err
}

// EndHolding ends a customer's current holding at endedAt (now when zero).
func (s *HoldingService) EndHolding(ctx context.Context, customerID, holdingID string, endedAt time.Time) (*rapport.Holding, error) {
	var h *rapport.Holding
	err := s.db.inTx(ctx, func(tx *tx) error {
		var err error
		h, err = scanHolding(tx.queryRow(ctx, `SELECT `+holdingColumns+` FROM holdings WHERE id = ? AND customer_id = ?`, holdingID, customerID))
		if errors.Is(err, sql.ErrNoRows) {
			if _, err := findCustomer(ctx, tx.querier, customerID); err != nil {
				return err
			}
			return rapport.Errorf(rapport.ENOTFOUND, "The customer has no holding with the id %q.", holdingID)
		} else if err != nil {
			return err
		}
		now := tx.now.Truncate(time.Microsecond)
		if h.EndedAt != nil && !h.EndedAt.After(now) {
			return rapport.Errorf(rapport.ECONFLICT, "The holding ended already, on %s.", h.EndedAt.Format(time.DateOnly))
		}
		end := endedAt.UTC().Truncate(time.Microsecond)
		if endedAt.IsZero() {
			end = now
		}
		switch {
		case end.Before(h.StartedAt):
			return &rapport.Error{Code: rapport.EINVALID, Message: "The end is not valid.",
				Fields: []rapport.FieldError{{Field: "ended_at", Message: "is before the holding started"}}}
		case end.After(now.Add(rapport.MaxClockSkew)):
			return &rapport.Error{Code: rapport.EINVALID, Message: "The end is not valid.",
				Fields: []rapport.FieldError{{Field: "ended_at", Message: "is more than a day in the future"}}}
		}
		err = keepProductPairs(ctx, tx, customerID, func() error {
			_, err := tx.exec(ctx, `UPDATE holdings SET ended_at = ? WHERE id = ?`, micros(end), h.ID)
			return err
		})
		if err != nil {
			return err
		}
		before := *h
		h.EndedAt = &end
		if _, err = refreshCustomers(ctx, tx, []string{customerID}, true); err != nil {
			return err
		}
		return audit(ctx, tx, rapport.AuditUpdate, "holding", h.ID, &before, h)
	})
	return h, err
}

// Referrals returns who referred a customer and whom they referred, newest first.
func (s *HoldingService) Referrals(ctx context.Context, customerID string) (*rapport.Referrals, error) {
	q := s.db.reader()
	c, err := findCustomer(ctx, q, customerID)
	if err != nil {
		return nil, err
	}
	return findReferrals(ctx, q, c)
}

// findReferrals reads who referred a customer and whom they referred.
func findReferrals(ctx context.Context, q querier, c *rapport.Customer) (*rapport.Referrals, error) {
	out := &rapport.Referrals{CustomerID: c.ID, Referred: []rapport.CustomerRef{}}
	scanRef := func(rows interface{ Scan(...any) error }) (rapport.CustomerRef, error) {
		var r rapport.CustomerRef
		var at int64
		err := rows.Scan(&r.ID, &r.Name, &r.Stage, &at)
		r.CreatedAt = fromMicros(at)
		return r, err
	}
	if c.ReferredBy != "" {
		r, err := scanRef(q.queryRow(ctx, `SELECT id, name, stage, created_at FROM customers WHERE id = ?`, c.ReferredBy))
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, err
		} else if err == nil {
			out.ReferredBy = &r
		}
	}
	err := eachRow(ctx, q, `SELECT id, name, stage, created_at FROM customers WHERE referred_by = ? ORDER BY created_at DESC, id DESC`,
		[]any{c.ID}, func(rows *sql.Rows) error {
			r, err := scanRef(rows)
			out.Referred = append(out.Referred, r)
			return err
		})
	return out, err
}

// CrossSell suggests the products a customer does not hold, from what the
// holders of their products also hold: for each product P they lack, the
// product A they hold whose holders most often hold P too (the association
// rule A → P with the highest confidence). A customer who holds nothing is
// offered the products most customers hold. The firm's counts come from
// product_pairs, so the panel costs the same however many customers hold.
func (s *HoldingService) CrossSell(ctx context.Context, customerID string) (*rapport.CrossSell, error) {
	q := s.db.reader()
	if _, err := findCustomer(ctx, q, customerID); err != nil {
		return nil, err
	}
	now := micros(s.db.now())
	products, err := s.FindProducts(ctx)
	if err != nil {
		return nil, err
	}
	out := &rapport.CrossSell{CustomerID: customerID, ComputedAt: fromMicros(now)}
	if out.Holds, err = heldProducts(ctx, q, customerID, now); err != nil {
		return nil, err
	}
	pairs, err := productPairsAt(ctx, q, now)
	if err != nil {
		return nil, err
	}
	holders := map[string]int{}
	for k, n := range pairs {
		if k.held == k.also && k.held != "" {
			holders[k.held] = n
		}
	}
	out.Customers = pairs[productPair{}]
	pick := newCrossSellPick(out, products, holders)
	if len(out.Holds) == 0 {
		for p, n := range holders {
			pick.consider(rapport.CrossSellSuggestion{Product: p, Support: n, Base: out.Customers})
		}
	} else {
		// In order, so that equally good rules are chosen between as ever.
		for _, k := range sortedKeys(pairs, productPair.compare) {
			if k.held != k.also && slices.Contains(out.Holds, k.held) {
				pick.consider(rapport.CrossSellSuggestion{Product: k.also, Because: k.held, Support: pairs[k], Base: holders[k.held]})
			}
		}
	}
	out.Suggestions = pick.suggestions()
	return out, nil
}

// heldProducts returns the products the customer holds now, in order.
func heldProducts(ctx context.Context, q querier, customerID string, now int64) ([]string, error) {
	held := []string{}
	err := eachRow(ctx, q, `SELECT DISTINCT product FROM holdings WHERE customer_id = ? AND started_at <= ? AND (ended_at IS NULL OR ended_at > ?)
		ORDER BY product`, []any{customerID, now, now},
		func(rows *sql.Rows) error {
			var p string
			err := rows.Scan(&p)
			held = append(held, p)
			return err
		})
	return held, err
}

// productPair is a row of product_pairs: held = also counts a product's
// holders, and the zero pair the customers who hold anything.
type productPair struct{ held, also string }

func (a productPair) compare(b productPair) int {
	return cmp.Or(strings.Compare(a.held, b.held), strings.Compare(a.also, b.also))
}

// addPairs adds sign times what one customer holding products (distinct)
// counts in product_pairs.
func addPairs(into map[productPair]int, products []string, sign int) {
	if len(products) == 0 {
		return
	}
	into[productPair{}] += sign
	for _, a := range products {
		for _, b := range products {
			into[productPair{a, b}] += sign
		}
	}
}

// openProducts returns the products a customer holds in holdings not ended,
// as product_pairs counts them.
func openProducts(ctx context.Context, q querier, customerID string) ([]string, error) {
	var out []string
	err := eachRow(ctx, q, `SELECT DISTINCT product FROM holdings WHERE customer_id = ? AND ended_at IS NULL`, []any{customerID},
		func(rows *sql.Rows) error {
			var p string
			err := rows.Scan(&p)
			out = append(out, p)
			return err
		})
	return out, err
}

// keepProductPairs runs change, which changes a customer's holdings (or
// deletes the customer), and brings product_pairs up to date with it.
func keepProductPairs(ctx context.Context, tx *tx, customerID string, change func() error) error {
	before, err := openProducts(ctx, tx.querier, customerID)
	if err != nil {
		return err
	}
	if err := change(); err != nil {
		return err
	}
	after, err := openProducts(ctx, tx.querier, customerID)
	if err != nil {
		return err
	}
	delta := map[productPair]int{}
	addPairs(delta, before, -1)
	addPairs(delta, after, 1)
	gone := false
	// In order, so that concurrent writers on PostgreSQL cannot deadlock.
	for _, k := range sortedKeys(delta, productPair.compare) {
		if delta[k] == 0 {
			continue
		}
		gone = gone || delta[k] < 0
		if _, err := tx.exec(ctx, `INSERT INTO product_pairs (held, also, customers) VALUES (?, ?, ?)
			ON CONFLICT (held, also) DO UPDATE SET customers = product_pairs.customers + excluded.customers`, k.held, k.also, delta[k]); err != nil {
			return err
		}
	}
	if gone {
		// Pairs no customer holds are gone, as a rebuild leaves them.
		_, err = tx.exec(ctx, `DELETE FROM product_pairs WHERE customers = 0`)
	}
	return err
}

// rebuildProductPairs counts product_pairs afresh from every holding, for
// after a bulk load; migration 0010 does the same. It reads each
// customer's current products once, in customer order from the holdings'
// index, and counts the pairs here: joining the holdings to themselves in
// SQL took SQLite time growing with the square of the holdings (over half
// an hour at 660,000), this takes time growing with their number.
func rebuildProductPairs(ctx context.Context, q querier) error {
	if _, err := q.exec(ctx, `DELETE FROM product_pairs`); err != nil {
		return err
	}
	pairs := map[productPair]int{}
	customers := 0
	var customer string
	var held []string
	count := func() {
		for _, a := range held {
			for _, b := range held {
				pairs[productPair{a, b}]++
			}
		}
		if len(held) > 0 {
			customers++
		}
		held = held[:0]
	}
	err := eachRow(ctx, q, `SELECT DISTINCT customer_id, product FROM holdings WHERE ended_at IS NULL ORDER BY customer_id, product`, nil,
		func(rows *sql.Rows) error {
			var c, p string
			if err := rows.Scan(&c, &p); err != nil {
				return err
			}
			if c != customer {
				count()
				customer = c
			}
			held = append(held, p)
			return nil
		})
	if err != nil {
		return err
	}
	count()
	if customers > 0 {
		pairs[productPair{}] = customers
	}
	for _, k := range slices.SortedFunc(maps.Keys(pairs), productPair.compare) {
		if _, err := q.exec(ctx, `INSERT INTO product_pairs (held, also, customers) VALUES (?, ?, ?)`, k.held, k.also, pairs[k]); err != nil {
			return err
		}
	}
	return nil
}

// productPairsAt returns product_pairs as it stands at now: the stored
// counts, set right for the customers with a holding that starts or ends
// after now, which the counts take as held and not held already.
func productPairsAt(ctx context.Context, q querier, now int64) (map[productPair]int, error) {
	pairs := map[productPair]int{}
	err := eachRow(ctx, q, `SELECT held, also, customers FROM product_pairs`, nil, func(rows *sql.Rows) error {
		var k productPair
		var n int
		err := rows.Scan(&k.held, &k.also, &n)
		pairs[k] = n
		return err
	})
	if err != nil {
		return nil, err
	}
	type held struct{ counted, now []string }
	pending := map[string]*held{}
	err = eachRow(ctx, q, `SELECT customer_id, product, started_at, ended_at FROM holdings WHERE customer_id IN (
			SELECT customer_id FROM holdings WHERE started_at > ? OR ended_at > ?)`, []any{now, now},
		func(rows *sql.Rows) error {
			var customer, product string
			var started int64
			var ended sql.NullInt64
			if err := rows.Scan(&customer, &product, &started, &ended); err != nil {
				return err
			}
			h := pending[customer]
			if h == nil {
				h = &held{}
				pending[customer] = h
			}
			if !ended.Valid && !slices.Contains(h.counted, product) {
				h.counted = append(h.counted, product)
			}
			if started <= now && (!ended.Valid || ended.Int64 > now) && !slices.Contains(h.now, product) {
				h.now = append(h.now, product)
			}
			return nil
		})
	for _, h := range pending {
		addPairs(pairs, h.counted, -1)
		addPairs(pairs, h.now, 1)
	}
	for k, n := range pairs {
		if n == 0 {
			delete(pairs, k)
		}
	}
	return pairs, err
}

// crossSellPick keeps, for each product the customer lacks, the suggestion
// with the highest confidence (then support).
type crossSellPick struct {
	held      map[string]bool
	names     map[string]string
	holders   map[string]int
	customers int
	best      map[string]rapport.CrossSellSuggestion
}

func newCrossSellPick(cs *rapport.CrossSell, products []*rapport.Product, holders map[string]int) *crossSellPick {
	p := &crossSellPick{held: map[string]bool{}, names: map[string]string{}, holders: holders, customers: cs.Customers,
		best: map[string]rapport.CrossSellSuggestion{}}
	for _, pr := range products {
		p.names[pr.Key] = pr.Name
	}
	for _, h := range cs.Holds {
		p.held[h] = true
	}
	return p
}

func (p *crossSellPick) consider(sg rapport.CrossSellSuggestion) {
	if sg.Base == 0 || sg.Support == 0 || p.held[sg.Product] {
		return
	}
	sg.ProductName = p.names[sg.Product]
	sg.Confidence = float64(sg.Support) / float64(sg.Base)
	if share := float64(p.holders[sg.Product]) / float64(max(p.customers, 1)); share > 0 {
		sg.Lift = sg.Confidence / share
	}
	if old, ok := p.best[sg.Product]; !ok || sg.Confidence > old.Confidence ||
		(sg.Confidence == old.Confidence && sg.Support > old.Support) {
		p.best[sg.Product] = sg
	}
}

// suggestions are the best suggestions, most confident first.
func (p *crossSellPick) suggestions() []rapport.CrossSellSuggestion {
	out := []rapport.CrossSellSuggestion{}
	for _, sg := range p.best {
		out = append(out, sg)
	}
	slices.SortFunc(out, func(a, b rapport.CrossSellSuggestion) int {
		return cmp.Or(cmp.Compare(b.Confidence, a.Confidence), cmp.Compare(b.Support, a.Support), strings.Compare(a.Product, b.Product))
	})
	return out
}
