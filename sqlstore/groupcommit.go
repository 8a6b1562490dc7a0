package sqlstore

import (
	"context"
	"sync"
	"time"

	"github.com/rapport-crm/rapport"
)

// Moments recorded one at a time by many clients at once share transactions
// (group commit). Each transaction ends with a write to disk that costs far
// more than the moment itself; while one commits, the moments that arrive
// wait, and the next transaction takes them all. A client alone waits for no
// one: its moment goes at once in a transaction of its own. Every client is
// answered only after the transaction holding its moment has committed, so
// an answered moment is as durable as before.
//
// One group is committed at a time, on PostgreSQL too: committing up to
// four at once was measured, and it gained nothing (the load's groups share
// customers, whose rows each transaction locks until it commits) while the
// slowest answers came a third later.
//
// A moment that its own transaction would refuse (an unknown customer, say)
// is refused alone and the rest of its group is stored; should the shared
// transaction fail for any other reason, each moment of the group is
// recorded again in a transaction of its own, so one client's trouble is
// never another's.

// maxGroup bounds the moments of one shared transaction.
const maxGroup = 1000

// committer queues single moments for shared transactions; each DB has one.
type committer struct {
	mu      sync.Mutex
	waiting []*recording
	busy    bool // a goroutine is committing the queue
	groups  int  // shared transactions tried, for tests
	pending int  // moments queued or being committed, for tests
}

// recording is one client's moment on its way to a shared transaction.
type recording struct {
	ctx     context.Context
	m       *rapport.Moment
	sent    rapport.Moment // as the client sent it, to start again from
	created bool
	err     error
	done    chan struct{}
}

// recordShared stores one valid moment in a transaction shared with the
// moments recorded at the same time, and reports whether it was new.
func (s *MomentService) recordShared(ctx context.Context, m *rapport.Moment) (bool, error) {
	r := &recording{ctx: ctx, m: m, sent: *m, done: make(chan struct{})}
	c := &s.db.commits
	c.mu.Lock()
	c.waiting = append(c.waiting, r)
	c.pending++
	if !c.busy {
		c.busy = true
		go s.commitWaiting()
	}
	c.mu.Unlock()
	// Once queued, the moment may be committed whatever happens to ctx; the
	// client is told which.
	<-r.done
	return r.created, r.err
}

// commitWaiting commits the queue group by group until it is empty.
func (s *MomentService) commitWaiting() {
	c := &s.db.commits
	for {
		c.mu.Lock()
		n := min(len(c.waiting), maxGroup)
		if n == 0 {
			c.busy = false
			c.mu.Unlock()
			return
		}
		group := c.waiting[:n:n]
		c.waiting = c.waiting[n:]
		c.groups++
		c.mu.Unlock()
		s.commitGroup(group)
	}
}

// commitGroup stores a group's moments in one transaction, or each on its
// own when the shared one fails, and answers every client.
func (s *MomentService) commitGroup(group []*recording) {
	defer func() {
		c := &s.db.commits
		c.mu.Lock()
		c.pending -= len(group)
		c.mu.Unlock()
		for _, r := range group {
			close(r.done)
		}
	}()
	var live []*recording
	for _, r := range group {
		if r.err = r.ctx.Err(); r.err == nil {
			live = append(live, r)
		}
	}
	if len(live) == 0 {
		return
	}
	// No one client's cancellation may stop the others' transaction.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(live[0].ctx), time.Minute)
	defer cancel()
	err := s.db.inTx(ctx, func(tx *tx) error { return s.storeGroup(ctx, tx, live) })
	if err == nil {
		return
	}
	for _, r := range live {
		*r.m = r.sent
		var created []bool
		created, r.err = s.recordAlone(r.ctx, rapport.SourceSingle, []*rapport.Moment{r.m}, nil)
		r.created = len(created) == 1 && created[0]
	}
}

// storeGroup stores the group's moments that their references allow, in
// one transaction, with what follows from them; the others get their error.
func (s *MomentService) storeGroup(ctx context.Context, tx *tx, group []*recording) error {
	ms := make([]*rapport.Moment, len(group))
	for i, r := range group {
		r.err, r.created = nil, false
		ms[i] = r.m
	}
	// Checked as a batch, each problem names its moment's place in the group.
	refs, err := checkMomentRefs(ctx, tx, ms, true)
	if err != nil {
		return err
	}
	problems := map[int][]rapport.FieldError{}
	for _, f := range refs {
		problems[*f.Index] = append(problems[*f.Index], rapport.NewFieldError(-1, f.Field, "%s", f.Message))
	}
	var ok []*recording
	for i, r := range group {
		if fs := problems[i]; len(fs) > 0 {
			r.err = rapport.InvalidMoments(fs)
			continue
		}
		ok = append(ok, r)
	}
	ms = ms[:0]
	for _, r := range ok {
		ms = append(ms, r.m)
	}
	created, err := s.storeNew(ctx, tx, rapport.SourceSingle, ms)
	for i, r := range ok {
		r.created = err == nil && created[i]
	}
	return err
}
