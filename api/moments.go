package api

import (
	"net/http"
	"time"

	"github.com/rapport-crm/rapport"
)

// momentInput is what a client sends to record a moment. The time is a string
// so that a malformed one is reported against its field.
type momentInput struct {
	ExternalID string          `json:"external_id"`
	CustomerID string          `json:"customer_id"`
	Touchpoint string          `json:"touchpoint"`
	Channel    rapport.Channel `json:"channel"`
	OccurredAt string          `json:"occurred_at"`
	StaffID    string          `json:"staff_id"`
	Response   string          `json:"response"`
	Rating     *int            `json:"rating"`
	Effort     *int            `json:"effort"`
	NPS        *int            `json:"nps"`
	Outcome    rapport.Outcome `json:"outcome"`
	Notes      string          `json:"notes"`
	Revenue    float64         `json:"revenue"`
	Cost       float64         `json:"cost"`
}

// moment turns the input into a moment, reporting an unreadable time as a
// field error at index (or -1 outside a batch).
func (in momentInput) moment(index int) (*rapport.Moment, []rapport.FieldError) {
	m := &rapport.Moment{ExternalID: in.ExternalID, CustomerID: in.CustomerID, Touchpoint: in.Touchpoint,
		Channel: in.Channel, StaffID: in.StaffID, Response: in.Response, Rating: in.Rating, Effort: in.Effort,
		NPS: in.NPS, Outcome: in.Outcome, Notes: in.Notes, Revenue: in.Revenue, Cost: in.Cost}
	if in.OccurredAt == "" {
		return m, nil // the domain reports it missing
	}
	t, err := time.Parse(time.RFC3339Nano, in.OccurredAt)
	if err != nil {
		return m, []rapport.FieldError{rapport.NewFieldError(index, "occurred_at", "must be an RFC 3339 time such as 2026-03-01T14:30:00Z")}
	}
	m.OccurredAt = t
	return m, nil
}

// withDomainErrors adds the domain's own checks of ms to the errors of times
// that could not be read, so the client hears of every problem at once. A
// moment whose time was unreadable is not also told its time is missing.
func withDomainErrors(timeErrors []rapport.FieldError, ms []*rapport.Moment, now time.Time, firstIndex int) []rapport.FieldError {
	badTime := map[int]bool{}
	for _, f := range timeErrors {
		if f.Index != nil {
			badTime[*f.Index] = true
		}
	}
	out := timeErrors
	for i, m := range ms {
		idx := -1
		if firstIndex >= 0 {
			idx = firstIndex + i
		}
		for _, f := range m.Validate(now, idx) {
			if f.Field == "occurred_at" && (badTime[idx] || firstIndex < 0) {
				continue
			}
			out = append(out, f)
		}
	}
	return out
}

func (s *Server) handleRecordMoment(w http.ResponseWriter, r *http.Request) {
	var in momentInput
	if err := decode(w, r, maxBodyBytes, &in); err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	m, fields := in.moment(-1)
	if len(fields) > 0 {
		writeError(w, r, s.Logger, rapport.InvalidMoments(withDomainErrors(fields, []*rapport.Moment{m}, s.Clock(), -1)))
		return
	}
	created, err := s.Moments.RecordMoment(r.Context(), m)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		w.Header().Set("Location", "/api/v1/moments/"+m.ID)
	}
	encode(w, status, m)
}

// batchInput is a batch of moments to record together.
type batchInput struct {
	Moments []momentInput `json:"moments"`
}

// batchResult reports a recorded batch: every moment in the order sent, and
// how many were new rather than already stored under their external id.
type batchResult struct {
	Moments  []*rapport.Moment `json:"moments"`
	Created  int               `json:"created"`
	Existing int               `json:"existing"`
}

func (s *Server) handleRecordMoments(w http.ResponseWriter, r *http.Request) {
	var in batchInput
	if err := decode(w, r, maxBatchBytes, &in); err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	switch {
	case len(in.Moments) == 0:
		writeError(w, r, s.Logger, rapport.Errorf(rapport.EINVALID, `The batch has no moments; send {"moments": [...]}.`))
		return
	case len(in.Moments) > maxBatch:
		writeError(w, r, s.Logger, rapport.Errorf(rapport.ETOOLARGE, "A batch may hold at most %d moments; this one has %d.", maxBatch, len(in.Moments)))
		return
	}
	ms := make([]*rapport.Moment, len(in.Moments))
	var timeErrors []rapport.FieldError
	for i, mi := range in.Moments {
		var fields []rapport.FieldError
		ms[i], fields = mi.moment(i)
		timeErrors = append(timeErrors, fields...)
	}
	if len(timeErrors) > 0 {
		writeError(w, r, s.Logger, &rapport.Error{Code: rapport.EINVALID, Fields: withDomainErrors(timeErrors, ms, s.Clock(), 0),
			Message: "Some moments are not valid; nothing was recorded."})
		return
	}
	created, err := s.Moments.RecordMoments(r.Context(), ms)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	res := batchResult{Moments: ms}
	for _, c := range created {
		if c {
			res.Created++
		} else {
			res.Existing++
		}
	}
	status := http.StatusCreated
	if res.Created == 0 {
		status = http.StatusOK
	}
	encode(w, status, res)
}

func (s *Server) handleGetMoment(w http.ResponseWriter, r *http.Request) {
	m, err := s.Moments.FindMomentByID(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusOK, m)
}

func (s *Server) handleListMoments(w http.ResponseWriter, r *http.Request) {
	f, fields := momentFilter(r)
	servePage(s, w, r, fields, func(limit int, cursor string) (rapport.Page[*rapport.Moment], error) {
		f.Limit, f.Cursor = limit, cursor
		return s.Moments.FindMoments(r.Context(), f)
	})
}

// momentFilter reads the filters of a list of moments from the query,
// with a field error for each one that is not valid.
func momentFilter(r *http.Request) (rapport.MomentFilter, []rapport.FieldError) {
	q := r.URL.Query()
	f := rapport.MomentFilter{CustomerID: q.Get("customer_id"), Touchpoint: q.Get("touchpoint"),
		Channel: rapport.Channel(q.Get("channel")), Outcome: rapport.Outcome(q.Get("outcome")),
		StaffID: q.Get("staff_id")}
	var fields []rapport.FieldError
	if f.Channel != "" && !f.Channel.Valid() {
		fields = append(fields, rapport.FieldError{Field: "channel", Message: "is not a known channel"})
	}
	if f.Outcome != "" && !f.Outcome.Valid() {
		fields = append(fields, rapport.FieldError{Field: "outcome", Message: "must be magic, neutral or misery"})
	}
	return f, append(fields, queryWindow(q, &f.From, &f.To)...)
}
