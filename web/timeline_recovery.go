package web

import (
	"net/http"

	"github.com/rapport-crm/rapport"
)

// recoveryEntry is what a timeline entry needs beyond its event to show
// promises, cases and survey answers, and the actions on a moment.
type recoveryEntry struct {
	Work bool   // the user may settle promises and make survey links
	CSRF string // the token of the entries' forms
	Late bool   // an open promise or case past its due time
	// Back is the page to return to after settling a promise.
	Back string
}

// recoveryEntries fills in what the promise, case and survey entries of a
// page of the timeline show, and what every entry's actions need; entries
// offer actions only when open (the customer was not erased).
func (s *server) recoveryEntries(r *http.Request, customerID string, entries []timelineEntry, tps map[string]string, open bool) error {
	v := visitorFrom(r.Context())
	work := open && v.user != nil && v.user.Role.Can(rapport.PermWriteMoments)
	now := s.Clock()
	var users map[string]string
	name := func(key string) string {
		if n := tps[key]; n != "" {
			return n
		}
		return key
	}
	for i := range entries {
		e := &entries[i]
		e.recoveryEntry = recoveryEntry{Work: work, CSRF: v.csrf,
			Back: "/customers/" + customerID + "#timeline"}
		switch {
		case e.Promise != nil:
			if users == nil {
				var err error
				if users, err = s.userNames(r); err != nil {
					return err
				}
			}
			e.StaffName = users[e.Promise.StaffID]
			e.Late = e.Promise.Status == rapport.PromiseOpen && now.After(e.Promise.DueAt)
		case e.Case != nil:
			e.TouchpointName = name(e.Case.Touchpoint)
			// The timeline's own flag is only a hint; the UI's clock decides.
			e.Late = e.Case.Status == rapport.CaseOpen && now.After(e.Case.DueAt)
		case e.Survey != nil:
			e.TouchpointName = name(e.Survey.Touchpoint)
		}
	}
	return nil
}
