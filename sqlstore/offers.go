package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/binary"
	"errors"
	"slices"
	"time"

	"github.com/rapport-crm/rapport"
)

// OfferService starts offers on segments, lists whom to make them to, and
// measures what followed for offered customers against the holdout.
type OfferService struct {
	db          *DB
	suggestions *SuggestionService
}

// NewOfferService returns the offers kept in db.
func NewOfferService(db *DB) *OfferService {
	return &OfferService{db: db, suggestions: NewSuggestionService(db)}
}

var _ rapport.OfferService = (*OfferService)(nil)

const offerColumns = `o.id, o.name, o.kind, o.description, o.cost, o.touchpoint, o.segment_id, o.segment_name, o.segment_rule,
	o.starts_at, o.ends_at, o.holdout_share, o.seed, o.created_by, o.created_at`

// offerCounts are each offer's arms and how many offered customers have
// had the offer's moment since it started.
const offerCounts = `,
	(SELECT COUNT(*) FROM offer_assignments a WHERE a.offer_id = o.id AND a.arm = 'offered'),
	(SELECT COUNT(*) FROM offer_assignments a WHERE a.offer_id = o.id AND a.arm = 'holdout'),
	(SELECT COUNT(*) FROM offer_assignments a WHERE a.offer_id = o.id AND a.arm = 'offered' AND EXISTS (
		SELECT 1 FROM moments m WHERE m.customer_id = a.customer_id AND m.touchpoint = o.touchpoint AND m.occurred_at >= o.starts_at))`

// CreateOffer starts an offer: it draws every member of the segment now
// into offered or holdout, from the offer's seed (a random one when it has
// none), creates the offer's touchpoint if the catalogue lacks it, and
// announces each offered customer (offer.assigned), all in one transaction.
func (s *OfferService) CreateOffer(ctx context.Context, o *rapport.Offer) error {
	if err := o.Validate(s.db.now()); err != nil {
		return err
	}
	for o.Seed == 0 {
		var b [8]byte
		if _, err := rand.Read(b[:]); err != nil {
			return err
		}
		o.Seed = int64(binary.BigEndian.Uint64(b[:]) >> 1)
	}
	return s.db.inTx(ctx, func(tx *tx) error {
		members, sg, err := s.segmentMembers(ctx, tx, o.Segment)
		if err != nil {
			return err
		}
		if err := ensureGivingTouchpoint(ctx, tx, o.Touchpoint, "Offers made to customers."); err != nil {
			return err
		}
		now := tx.now.Truncate(time.Microsecond)
		o.ID, o.CreatedBy, o.CreatedAt = rapport.NewID(now), rapport.ActorID(ctx), now
		o.SegmentName, o.SegmentRule = sg.Name, sg.Rule
		_, err = tx.exec(ctx, `INSERT INTO offers (id, name, kind, description, cost, touchpoint, segment_id, segment_name, segment_rule,
			starts_at, ends_at, holdout_share, seed, created_by, created_at) VALUES (`+placeholders(15)+`)`,
			o.ID, o.Name, o.Kind, o.Description, o.Cost, o.Touchpoint, sg.ID, sg.Name, sg.Rule,
			micros(o.StartsAt), micros(o.EndsAt), o.HoldoutShare, o.Seed, o.CreatedBy, micros(now))
		if err != nil {
			return err
		}
		offered, err := insertAssignments(ctx, tx, o, members)
		if err != nil {
			return err
		}
		o.Offered, o.Holdout, o.Given = len(offered), len(members)-len(offered), 0
		if err := enqueueOffersAssigned(ctx, tx, o, offered); err != nil {
			return err
		}
		return audit(ctx, tx, rapport.AuditCreate, "offer", o.ID, nil, offerDefinition(o))
	})
}

// offerDefinition is what the audit log keeps of an offer.
func offerDefinition(o *rapport.Offer) map[string]any {
	return map[string]any{"name": o.Name, "kind": o.Kind, "cost": o.Cost, "touchpoint": o.Touchpoint, "segment": o.Segment,
		"starts_at": o.StartsAt, "ends_at": o.EndsAt, "holdout_share": o.HoldoutShare, "seed": o.Seed,
		"offered": o.Offered, "holdout": o.Holdout}
}

// segmentMembers returns the ids of a segment's members now, in id order.
func (s *OfferService) segmentMembers(ctx context.Context, tx *tx, id string) ([]string, *rapport.SegmentRef, error) {
	query, args, sg, err := s.db.segmentCustomers(ctx, tx.querier, id)
	if rapport.ErrorCode(err) == rapport.ENOTFOUND {
		return nil, nil, &rapport.Error{Code: rapport.EINVALID, Message: "The offer is not valid.",
			Fields: []rapport.FieldError{{Field: "segment", Message: "no segment has the id " + id}}}
	}
	if err != nil {
		return nil, nil, err
	}
	ids, err := queryIDs(ctx, tx.querier, query+` ORDER BY m.customer_id`, args...)
	return ids, sg, err
}

// ensureGivingTouchpoint adds the touchpoint an offer or a gesture is
// recorded on to the catalogue if it is not there: as the default catalogue
// has it, else a sale touchpoint named after its key, described as given.
func ensureGivingTouchpoint(ctx context.Context, tx *tx, key, description string) error {
	_, err := findTouchpoint(ctx, tx.querier, key)
	if rapport.ErrorCode(err) != rapport.ENOTFOUND {
		return err
	}
	tp := &rapport.Touchpoint{Key: key, Name: key, Phase: rapport.PhaseSale, TargetScore: 4,
		Channels:    []rapport.Channel{rapport.ChannelEmail, rapport.ChannelPhone, rapport.ChannelWeb},
		Description: description}
	for _, d := range rapport.DefaultTouchpoints() {
		if d.Key == key {
			tp = d
		}
	}
	if err := insertTouchpoint(ctx, tx, tp, tx.now); err != nil {
		return err
	}
	return audit(ctx, tx, rapport.AuditCreate, "touchpoint", tp.Key, nil, tp)
}

// insertAssignments draws and stores each member's arm and returns the
// offered customers.
func insertAssignments(ctx context.Context, tx *tx, o *rapport.Offer, members []string) ([]string, error) {
	var offered []string
	for chunk := range slices.Chunk(members, insertChunk) {
		args := make([]any, 0, 3*len(chunk))
		for _, id := range chunk {
			arm := rapport.OfferArm(o.Seed, id, o.HoldoutShare)
			if arm == rapport.ArmOffered {
				offered = append(offered, id)
			}
			args = append(args, o.ID, id, arm)
		}
		if _, err := tx.exec(ctx, `INSERT INTO offer_assignments (offer_id, customer_id, arm) VALUES `+
			repeatRows(3, len(chunk)), args...); err != nil {
			return nil, err
		}
	}
	return offered, nil
}

// repeatRows returns "(?, ?), (?, ?)" for rows rows of cols values.
func repeatRows(cols, rows int) string {
	row := "(" + placeholders(cols) + ")"
	out := row
	for range rows - 1 {
		out += ", " + row
	}
	return out
}

// enqueueOffersAssigned writes an offer.assigned event per offered customer.
func enqueueOffersAssigned(ctx context.Context, tx *tx, o *rapport.Offer, offered []string) error {
	events := make([]*rapport.OfferAssigned, len(offered))
	for i, id := range offered {
		events[i] = &rapport.OfferAssigned{OfferID: o.ID, OfferName: o.Name, Kind: o.Kind, CustomerID: id,
			Touchpoint: o.Touchpoint, StartsAt: o.StartsAt, EndsAt: o.EndsAt}
	}
	return enqueue(ctx, tx, rapport.EventOfferAssigned, events)
}

// FindOffers lists every offer, newest first, with its counts.
func (s *OfferService) FindOffers(ctx context.Context) ([]*rapport.Offer, error) {
	out := []*rapport.Offer{}
	err := eachRow(ctx, s.db.reader(), `SELECT `+offerColumns+offerCounts+` FROM offers o ORDER BY o.starts_at DESC, o.id DESC`, nil,
		func(rows *sql.Rows) error {
			o, err := scanOffer(rows)
			out = append(out, o)
			return err
		})
	return out, err
}

// FindOfferByID returns one offer with its counts, or ENOTFOUND.
func (s *OfferService) FindOfferByID(ctx context.Context, id string) (*rapport.Offer, error) {
	return findOffer(ctx, s.db.reader(), id)
}

func findOffer(ctx context.Context, q querier, id string) (*rapport.Offer, error) {
	o, err := scanOffer(q.queryRow(ctx, `SELECT `+offerColumns+offerCounts+` FROM offers o WHERE o.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, rapport.Errorf(rapport.ENOTFOUND, "No offer has the id %q.", id)
	}
	return o, err
}

func scanOffer(row interface{ Scan(...any) error }) (*rapport.Offer, error) {
	var o rapport.Offer
	var starts, ends, created int64
	err := row.Scan(&o.ID, &o.Name, &o.Kind, &o.Description, &o.Cost, &o.Touchpoint, &o.Segment, &o.SegmentName, &o.SegmentRule,
		&starts, &ends, &o.HoldoutShare, &o.Seed, &o.CreatedBy, &created, &o.Offered, &o.Holdout, &o.Given)
	if err != nil {
		return nil, err
	}
	o.StartsAt, o.EndsAt, o.CreatedAt = fromMicros(starts), fromMicros(ends), fromMicros(created)
	return &o, nil
}

// OfferCustomers lists an offer's offered customers by id, each with when
// the offer's moment was first recorded for them since the start and, while
// it has not been, the response suggested for them on its touchpoint.
func (s *OfferService) OfferCustomers(ctx context.Context, id string, f rapport.OfferCustomerFilter) (rapport.Page[*rapport.OfferCustomer], error) {
	page := rapport.Page[*rapport.OfferCustomer]{Items: []*rapport.OfferCustomer{}}
	q := s.db.reader()
	o, err := findOffer(ctx, q, id)
	if err != nil {
		return page, err
	}
	var b sqlBuilder
	b.add(`SELECT a.customer_id, c.name, COALESCE(c.owner_id, ''), COALESCE(u.name, ''),
		(SELECT MIN(m.occurred_at) FROM moments m WHERE m.customer_id = a.customer_id AND m.touchpoint = ? AND m.occurred_at >= ?)
		FROM offer_assignments a JOIN customers c ON c.id = a.customer_id LEFT JOIN users u ON u.id = c.owner_id
		WHERE a.offer_id = ? AND a.arm = 'offered'`, o.Touchpoint, micros(o.StartsAt), o.ID)
	if f.Owner != "" {
		b.add(` AND c.owner_id = ?`, f.Owner)
	}
	if f.Open {
		b.add(` AND NOT EXISTS (SELECT 1 FROM moments m WHERE m.customer_id = a.customer_id AND m.touchpoint = ? AND m.occurred_at >= ?)`,
			o.Touchpoint, micros(o.StartsAt))
	}
	if f.Cursor != "" {
		parts, err := decodeCursor(f.Cursor, 1)
		if err != nil {
			return page, err
		}
		b.add(` AND a.customer_id > ?`, parts[0])
	}
	limit := rapport.PageLimit(f.Limit)
	b.add(` ORDER BY a.customer_id LIMIT ?`, limit+1)
	err = eachRow(ctx, q, b.b.String(), b.args, func(rows *sql.Rows) error {
		var c rapport.OfferCustomer
		var given sql.NullInt64
		if err := rows.Scan(&c.CustomerID, &c.Name, &c.OwnerID, &c.OwnerName, &given); err != nil {
			return err
		}
		c.GivenAt = timePtr(given)
		page.Items = append(page.Items, &c)
		return nil
	})
	if err != nil {
		return page, err
	}
	if len(page.Items) > limit {
		page.Items = page.Items[:limit]
		page.NextCursor = encodeCursor(page.Items[limit-1].CustomerID)
	}
	for _, c := range page.Items {
		if c.GivenAt == nil {
			if c.Suggestion, err = suggestionFor(ctx, s.suggestions, c.CustomerID, o.Touchpoint); err != nil {
				return page, err
			}
		}
	}
	return page, nil
}
