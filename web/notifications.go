package web

import (
	"net/http"

	"github.com/rapport-crm/rapport"
)

// notificationsData is the notifications page: the latest, and which kinds
// come by email.
type notificationsData struct {
	List   *rapport.NotificationList
	Kinds  []notificationKind
	Digest bool
}

type notificationKind struct {
	Kind, Label string
	Email       bool
}

// notificationsShown is how many notifications the page lists.
const notificationsShown = 50

func (s *server) notificationsPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		u := visitorFrom(ctx).user
		list, err := s.Notifications.FindNotifications(ctx, u.ID, notificationsShown)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		prefs, err := s.Notifications.FindNotificationPrefs(ctx, u.ID)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		d := notificationsData{List: list, Digest: prefs.Digest()}
		for _, k := range rapport.NotificationKinds {
			d.Kinds = append(d.Kinds, notificationKind{Kind: k, Label: rapport.NotificationKindLabel(k), Email: prefs.Emails(k)})
		}
		s.render(w, r, http.StatusOK, "notifications", "", s.newPage(r, "Notifications", "notifications", d))
	})
}

func (s *server) notificationsRead() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.Notifications.MarkNotificationsRead(r.Context(), visitorFrom(r.Context()).user.ID); err != nil {
			s.serverError(w, r, err)
			return
		}
		setFlash(w, r, "All notifications marked read.")
		redirect(w, r, "/notifications")
	})
}

func (s *server) notificationsSettings() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		prefs := rapport.NotificationPrefs{}
		for _, k := range rapport.NotificationKinds {
			prefs[k] = false
		}
		for _, k := range r.PostForm["email"] {
			prefs[k] = true
		}
		prefs[rapport.NotifyDigest] = r.PostForm.Get("digest") == "on"
		if err := s.Notifications.SetNotificationPrefs(r.Context(), visitorFrom(r.Context()).user.ID, prefs); err != nil {
			if rapport.ErrorCode(err) == rapport.EINVALID {
				setFlash(w, r, "Those settings could not be saved: choose from the list.")
				redirect(w, r, "/notifications")
				return
			}
			s.serverError(w, r, err)
			return
		}
		setFlash(w, r, "Your email settings are saved.")
		redirect(w, r, "/notifications#email-settings")
	})
}
