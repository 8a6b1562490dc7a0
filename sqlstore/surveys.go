package sqlstore

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"slices"
	"time"

	"github.com/rapport-crm/rapport"
)

// SurveyService issues one-time survey links and lands their answers on moments.
type SurveyService struct{ db *DB }

// NewSurveyService returns the survey links stored in db.
func NewSurveyService(db *DB) *SurveyService { return &SurveyService{db: db} }

var _ rapport.SurveyService = (*SurveyService)(nil)

// surveyTokenBytes is the randomness in a survey token: 256 bits, so tokens
// cannot be guessed however many are tried.
const surveyTokenBytes = 32

// surveyTokenLength is the length of a token as text (unpadded base64url).
var surveyTokenLength = base64.RawURLEncoding.EncodedLen(surveyTokenBytes)

// ValidSurveyToken reports whether s has the shape of a survey token, so that
// anything else is refused without a database lookup.
func ValidSurveyToken(s string) bool {
	if len(s) != surveyTokenLength {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func hashSurveyToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// errSurveyGone is the one answer for an unknown or expired token, so that
// the page cannot tell anyone which tokens ever existed.
var errSurveyGone = rapport.Errorf(rapport.ENOTFOUND, "This survey link is not valid.")

var errSurveyAnswered = rapport.Errorf(rapport.ECONFLICT, "This survey has been answered already.")

// CreateSurveyLink issues a link to rate a moment; see rapport.SurveyService.
func (s *SurveyService) CreateSurveyLink(ctx context.Context, momentID string, ttl time.Duration) (*rapport.SurveyLink, error) {
	if ttl <= 0 {
		ttl = rapport.DefaultSurveyTTL
	}
	var link *rapport.SurveyLink
	err := s.db.inTx(ctx, func(tx *tx) error {
		var customer string
		err := tx.queryRow(ctx, `SELECT customer_id FROM moments WHERE id = ?`, momentID).Scan(&customer)
		if errors.Is(err, sql.ErrNoRows) {
			return rapport.Errorf(rapport.ENOTFOUND, "No moment has the id %q.", momentID)
		} else if err != nil {
			return err
		}
		if _, err := liveCustomer(ctx, tx.querier, customer); err != nil {
			return err
		}
		var answered int
		if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM survey_links WHERE moment_id = ? AND answered_at IS NOT NULL`, momentID).Scan(&answered); err != nil {
			return err
		}
		if answered > 0 {
			return rapport.Errorf(rapport.ECONFLICT, "The customer has answered a survey about this moment already.")
		}
		now := tx.now.Truncate(time.Microsecond)
		if link, err = insertSurveyLink(ctx, tx, momentID, customer, now, now.Add(ttl)); err != nil {
			return err
		}
		return audit(ctx, tx, rapport.AuditCreate, "survey_link", link.ID, nil, link)
	})
	if err != nil {
		return nil, err
	}
	return link, nil
}

// newToken returns a fresh random token and the hash Rapport keeps of it.
func newToken() (token, hash string) {
	var raw [surveyTokenBytes]byte
	rand.Read(raw[:])
	token = base64.RawURLEncoding.EncodeToString(raw[:])
	return token, hashSurveyToken(token)
}

// insertSurveyLink stores a new link to rate a moment, working from created
// until expires, and returns it with its token.
func insertSurveyLink(ctx context.Context, tx *tx, momentID, customerID string, created, expires time.Time) (*rapport.SurveyLink, error) {
	token, hash := newToken()
	created = created.Truncate(time.Microsecond)
	link := &rapport.SurveyLink{ID: rapport.NewID(tx.now), MomentID: momentID, CustomerID: customerID, Token: token,
		URL: rapport.SurveyPath(token), CreatedAt: created, ExpiresAt: expires.Truncate(time.Microsecond)}
	_, err := tx.exec(ctx, `INSERT INTO survey_links (id, moment_id, customer_id, token_hash, created_by, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, link.ID, momentID, customerID, hash, rapport.ActorID(ctx),
		micros(link.CreatedAt), micros(link.ExpiresAt))
	return link, err
}

// surveyLinkRow is what answering needs of a link.
type surveyLinkRow struct {
	id, momentID   string
	expires        int64
	answered       bool
	touchpointName string
	touchpoint     string
	occurredAt     int64
	language       string
}

func findSurveyLink(ctx context.Context, q querier, token string, now time.Time) (*surveyLinkRow, error) {
	if !ValidSurveyToken(token) {
		return nil, errSurveyGone
	}
	var l surveyLinkRow
	var answered sql.NullInt64
	err := q.queryRow(ctx, `SELECT l.id, l.moment_id, l.expires_at, l.answered_at, t.name, t.key, m.occurred_at, c.language
		FROM survey_links l JOIN moments m ON m.id = l.moment_id JOIN touchpoints t ON t.key = m.touchpoint
		JOIN customers c ON c.id = l.customer_id
		WHERE l.token_hash = ?`, hashSurveyToken(token)).Scan(&l.id, &l.momentID, &l.expires, &answered, &l.touchpointName, &l.touchpoint,
		&l.occurredAt, &l.language)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errSurveyGone
	} else if err != nil {
		return nil, err
	}
	l.answered = answered.Valid
	if !l.answered && l.expires <= micros(now) {
		return nil, errSurveyGone
	}
	return &l, nil
}

// FindSurvey returns what the page of a token shows; see rapport.SurveyService.
func (s *SurveyService) FindSurvey(ctx context.Context, token string) (*rapport.SurveyInvite, error) {
	l, err := findSurveyLink(ctx, s.db.reader(), token, s.db.now())
	if err != nil {
		return nil, err
	}
	if l.answered {
		return nil, errSurveyAnswered
	}
	p, err := findSurveyPolicy(ctx, s.db.reader(), l.touchpoint)
	if err != nil {
		return nil, err
	}
	return &rapport.SurveyInvite{TouchpointName: l.touchpointName, OccurredAt: fromMicros(l.occurredAt), ExpiresAt: fromMicros(l.expires),
		Reasons: p.Reasons, Language: l.language}, nil
}

// AnswerSurvey lands an answer on its moment, once. In the same transaction
// it updates the moment (rating, effort, NPS, the comment added to its
// notes, and its outcome unless that was given explicitly), moves the
// moment's contribution to the running totals from the old figures to the
// new, and opens a recovery case if the moment is now misery.
func (s *SurveyService) AnswerSurvey(ctx context.Context, token string, a rapport.SurveyAnswer) error {
	if err := a.Validate(); err != nil {
		return err
	}
	return s.db.inTx(ctx, func(tx *tx) error {
		l, err := findSurveyLink(ctx, tx.querier, token, tx.now)
		if err != nil {
			return err
		}
		if l.answered {
			return errSurveyAnswered
		}
		// Take the moment's row lock first, so that two links to one moment
		// answered at once on PostgreSQL are answered one after the other.
		if _, err := tx.exec(ctx, `UPDATE moments SET rating = rating WHERE id = ?`, l.momentID); err != nil {
			return err
		}
		var answered int
		if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM survey_links WHERE moment_id = ? AND answered_at IS NOT NULL`, l.momentID).Scan(&answered); err != nil {
			return err
		}
		if answered > 0 {
			return errSurveyAnswered
		}
		if a.Reason != "" {
			p, err := findSurveyPolicy(ctx, tx.querier, l.touchpoint)
			if err != nil {
				return err
			}
			if !slices.Contains(p.Reasons, a.Reason) {
				return &rapport.Error{Code: rapport.EINVALID, Message: "The answer is not valid.",
					Fields: []rapport.FieldError{{Field: "reason", Message: "choose one of the reasons listed"}}}
			}
		}
		old, err := scanMoment(tx.queryRow(ctx, `SELECT `+momentColumns+` FROM moments WHERE id = ?`, l.momentID))
		if err != nil {
			return err
		}
		// The staff's rating is kept on the link, beside the customer's, which
		// the moment and so every report now carries.
		res, err := tx.exec(ctx, `UPDATE survey_links SET answered_at = ?, rating = ?, effort = ?, nps = ?, comment = ?, reason = ?,
			staff_rating = ? WHERE id = ? AND answered_at IS NULL`, micros(tx.now), a.Rating, nullInt(a.Effort), nullInt(a.NPS), a.Comment,
			a.Reason, nullInt(old.Rating), l.id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errSurveyAnswered
		}
		if err := changeMoment(ctx, tx, old, answeredMoment(old, a)); err != nil {
			return err
		}
		// A reminder is for those who have not answered.
		if err := skipSurveyEmails(ctx, tx, `kind = ? AND invitation_id IN (SELECT id FROM survey_invitations WHERE link_id = ?)`,
			rapport.EmailSurveyReminder, l.id); err != nil {
			return err
		}
		r, err := scanSurveyResponse(tx.queryRow(ctx, surveyResponseSelect+` WHERE l.id = ?`, l.id))
		if err != nil {
			return err
		}
		return enqueue(ctx, tx, rapport.EventSurveyAnswered, []*rapport.SurveyResponse{r})
	})
}

// maxNotes is the longest a moment's notes may be, in characters.
const maxNotes = 10000

// answeredMoment returns the moment as the answer leaves it: the customer's
// rating, their effort and NPS where given, their comment after the notes,
// and the outcome derived from the new rating unless it was given.
func answeredMoment(old *rapport.Moment, a rapport.SurveyAnswer) *rapport.Moment {
	m := *old
	rating := a.Rating
	m.Rating = &rating
	if a.Effort != nil {
		e := *a.Effort
		m.Effort = &e
	}
	if a.NPS != nil {
		n := *a.NPS
		m.NPS = &n
	}
	if a.Comment != "" {
		note := "Customer's survey comment: " + a.Comment
		if m.Notes != "" {
			note = m.Notes + "\n\n" + note
		}
		if r := []rune(note); len(r) > maxNotes {
			note = string(r[:maxNotes])
		}
		m.Notes = note
	}
	if m.OutcomeSource != rapport.OutcomeGiven {
		m.Outcome, m.OutcomeSource = rapport.DeriveOutcome("", m.Rating)
	}
	return &m
}

const surveyResponseSelect = `SELECT l.id, l.moment_id, m.touchpoint, l.rating, l.effort, l.nps, l.reason, l.comment, l.answered_at,
	l.staff_rating, l.customer_id FROM survey_links l JOIN moments m ON m.id = l.moment_id`

func scanSurveyResponse(row interface{ Scan(...any) error }) (*rapport.SurveyResponse, error) {
	var r rapport.SurveyResponse
	var effort, nps, staff sql.NullInt64
	var at int64
	if err := row.Scan(&r.ID, &r.MomentID, &r.Touchpoint, &r.Rating, &effort, &nps, &r.Reason, &r.Comment, &at, &staff, &r.CustomerID); err != nil {
		return nil, err
	}
	r.Effort, r.NPS, r.AnsweredAt, r.StaffRating = intPtr(effort), intPtr(nps), fromMicros(at), intPtr(staff)
	return &r, nil
}

// surveyEntries are a customer's survey answers on their timeline, at the
// time each came.
func surveyEntries(ctx context.Context, q querier, customerID string, pos timelinePosition, limit int) ([]rapport.TimelineEntry, error) {
	cond, args := pos.before("l.answered_at", "l.id")
	rows, err := q.query(ctx, surveyResponseSelect+` WHERE l.customer_id = ? AND l.answered_at IS NOT NULL AND `+cond+
		` ORDER BY l.answered_at DESC, l.id DESC LIMIT ?`, append(append([]any{customerID}, args...), limit)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []rapport.TimelineEntry
	for rows.Next() {
		r, err := scanSurveyResponse(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, rapport.TimelineEntry{Kind: rapport.EntrySurvey, ID: r.ID, At: r.AnsweredAt, Survey: r})
	}
	return out, rows.Err()
}
