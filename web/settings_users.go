package web

import (
	"crypto/rand"
	"encoding/base32"
	"net/http"
	"strings"

	"github.com/rapport-crm/rapport"
)

// Users, for admins as in the API: who works in Rapport, with their role,
// team and manager, and a form to add someone. A new user's first password
// is made here and shown once, to hand over; it is never sent anywhere.

// usersData is the users page.
type usersData struct {
	Users    []*rapport.User
	Names    map[string]string // user id to name, for managers
	Form     *form
	Roles    []rapport.Role
	Managers []*rapport.User // who may manage others: managers and admins
	// Added and Password are set only in the answer to the form that added
	// the user.
	Added    *rapport.User
	Password string
	// Edit is the refused form that changed the user EditID's role or team.
	Edit   *form
	EditID string
}

// EditForm is the form that changes u's role or team: the refused one with
// its messages, or one filled with what u has now.
func (d usersData) EditForm(u *rapport.User) *form {
	if d.Edit != nil && d.EditID == u.ID {
		return d.Edit
	}
	f := newForm(nil)
	f.Values.Set("role", string(u.Role))
	f.Values.Set("team", u.Team)
	return f
}

func (s *server) renderUsers(w http.ResponseWriter, r *http.Request, status int, d usersData) {
	var err error
	if d.Users, err = s.Users.FindUsers(r.Context(), rapport.UserFilter{}); err != nil {
		s.serverError(w, r, err)
		return
	}
	d.Names = map[string]string{}
	for _, u := range d.Users {
		d.Names[u.ID] = u.Name
		if u.Role == rapport.RoleManager || u.Role == rapport.RoleAdmin {
			d.Managers = append(d.Managers, u)
		}
	}
	d.Roles = rapport.Roles
	if d.Form == nil {
		d.Form = newForm(nil)
		d.Form.Values.Set("role", string(rapport.RoleAgent))
	}
	s.render(w, r, status, "settings_users", "", s.newPage(r, "Users", "settings", d))
}

func (s *server) usersPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.renderUsers(w, r, http.StatusOK, usersData{})
	})
}

// firstPassword makes a new user's first password: 80 random bits, easy to
// read out.
func firstPassword() (string, error) {
	var raw [10]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", err
	}
	s := strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(raw[:]))
	return s[:4] + "-" + s[4:8] + "-" + s[8:12] + "-" + s[12:], nil
}

// userUpdate changes a user's role or team, checked as the API checks it.
func (s *server) userUpdate() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fm := newForm(r.PostForm)
		role, team := rapport.Role(fm.Get("role")), fm.Get("team")
		u, err := s.Users.UpdateUser(r.Context(), r.PathValue("id"), rapport.UserUpdate{Role: &role, Team: &team})
		if rapport.ErrorCode(err) == rapport.ENOTFOUND {
			s.renderError(w, r, http.StatusNotFound, "There is no such user.")
			return
		}
		if err != nil {
			if !fm.fromError(err, nil) {
				s.serverError(w, r, err)
				return
			}
			if rapport.ErrorCode(err) == rapport.ECONFLICT {
				fm.Message = rapport.ErrorMessage(err)
			}
			s.renderUsers(w, r, http.StatusUnprocessableEntity, usersData{Edit: fm, EditID: r.PathValue("id")})
			return
		}
		msg := u.Name + " is now " + roleWithArticle(u.Role)
		if u.Team != "" {
			msg += " in the team " + u.Team
		} else {
			msg += ", in no team"
		}
		setFlash(w, r, msg+".")
		redirect(w, r, "/settings/users#user-"+u.ID)
	})
}

// roleWithArticle is a role as a sentence names it: "an admin", "a manager".
func roleWithArticle(r rapport.Role) string {
	if r == rapport.RoleAdmin || r == rapport.RoleAgent {
		return "an " + string(r)
	}
	return "a " + string(r)
}

func (s *server) userCreate() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fm := newForm(r.PostForm)
		u := &rapport.User{Name: fm.Get("name"), Email: fm.Get("email"), Role: rapport.Role(fm.Get("role")), Team: fm.Get("team"),
			ManagerID: fm.Get("manager_id")}
		err := s.Users.CreateUser(r.Context(), u)
		if err != nil {
			if !fm.fromError(err, nil) {
				s.serverError(w, r, err)
				return
			}
			s.renderUsers(w, r, http.StatusUnprocessableEntity, usersData{Form: fm})
			return
		}
		password, err := firstPassword()
		if err == nil {
			err = s.Passwords.SetPassword(r.Context(), u.ID, password)
		}
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		s.renderUsers(w, r, http.StatusCreated, usersData{Added: u, Password: password})
	})
}
