package web

import (
	"crypto/rand"
	"encoding/base32"
	"net/http"
	"slices"
	"strings"

	"github.com/rapport-crm/rapport"
)

// Users, for admins as in the API: who works in Rapport, with their role,
// team and manager, and a form to add someone. A new user's first password
// is made here and shown once, to hand over; it is never sent anywhere.
// Someone who leaves is deactivated here, after a page that says what
// follows; their customers stay theirs until handed over.

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
	// Deactivated counts the deactivated users; Owned, for each of them who
	// still owns customers, how many, to point to handing them over.
	Deactivated int
	Owned       map[string]int
	// Refused says why the user RefusedID could not be deactivated.
	Refused   string
	RefusedID string
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
	d.Names, d.Owned = map[string]string{}, map[string]int{}
	for _, u := range d.Users {
		d.Names[u.ID] = u.Name
		if !u.Active {
			d.Deactivated++
			n, err := s.ownedCustomers(r, u.ID)
			if err != nil {
				s.serverError(w, r, err)
				return
			}
			if n > 0 {
				d.Owned[u.ID] = n
			}
			continue
		}
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

// activeOr keeps the active users, and those named in keep (the value a
// form holds now), for the pickers that give someone work: a deactivated
// user is offered no new customer, case or promise.
func activeOr(users []*rapport.User, keep ...string) []*rapport.User {
	var out []*rapport.User
	for _, u := range users {
		if u.Active || (u.ID != "" && slices.Contains(keep, u.ID)) {
			out = append(out, u)
		}
	}
	return out
}

// activeFirst puts the deactivated users after the active ones, for the
// filters that look back at work done: a deactivated user's past work and
// customers can still be found, under their name marked deactivated.
func activeFirst(users []*rapport.User) []*rapport.User {
	out := slices.Clone(users)
	slices.SortStableFunc(out, func(a, b *rapport.User) int {
		switch {
		case a.Active == b.Active:
			return 0
		case a.Active:
			return -1
		}
		return 1
	})
	return out
}

// ownedCustomers counts the customers a user owns.
func (s *server) ownedCustomers(r *http.Request, userID string) (int, error) {
	list, err := s.CustomerList.ListCustomers(r.Context(), rapport.CustomerListFilter{OwnerID: userID, Limit: 1})
	if err != nil {
		return 0, err
	}
	return list.Total, nil
}

// deactivateData is the page that asks whether to deactivate a user,
// saying what follows.
type deactivateData struct {
	User      *rapport.User
	Self      bool // the admin is deactivating themselves
	Customers int  // the customers they own
	Cases     int  // the open recovery cases assigned to them
}

// userActive deactivates or reactivates a user. Deactivating signs the
// person out everywhere, so it is asked again first, never done on one
// click; reactivating only lets them sign in again.
func (s *server) userActive() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, id := r.Context(), r.PathValue("id")
		active := r.PostFormValue("active") == "true"
		u, err := s.Users.FindUserByID(ctx, id)
		if rapport.ErrorCode(err) == rapport.ENOTFOUND {
			s.renderError(w, r, http.StatusNotFound, "There is no such user.")
			return
		} else if err != nil {
			s.serverError(w, r, err)
			return
		}
		if !active && u.Active && r.PostFormValue("confirm") != "yes" {
			s.confirmDeactivate(w, r, u)
			return
		}
		after, err := s.Users.UpdateUser(ctx, id, rapport.UserUpdate{Active: &active})
		if rapport.ErrorCode(err) == rapport.ECONFLICT {
			s.renderUsers(w, r, http.StatusConflict, usersData{Refused: rapport.ErrorMessage(err), RefusedID: id})
			return
		} else if err != nil {
			s.serverError(w, r, err)
			return
		}
		if after.Active {
			setFlash(w, r, after.Name+" is active again and can sign in with their password.")
			redirect(w, r, "/settings/users#user-"+id)
			return
		}
		msg := after.Name + " is deactivated: signed out everywhere, and can no longer sign in."
		n, err := s.ownedCustomers(r, id)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		if n > 0 {
			setFlashLink(w, r, msg+" "+customersOwned(n)+" still theirs.", "/handovers/new?from="+id, "Hand them over")
		} else {
			setFlash(w, r, msg)
		}
		redirect(w, r, "/settings/users#user-"+id)
	})
}

// customersOwned says how many customers someone owns: "12 customers are".
func customersOwned(n int) string {
	if n == 1 {
		return "1 customer is"
	}
	return commas(int64(n)) + " customers are"
}

// confirmDeactivate asks whether to deactivate u, or says at once why the
// firm's last active admin cannot be.
func (s *server) confirmDeactivate(w http.ResponseWriter, r *http.Request, u *rapport.User) {
	ctx, admin, yes := r.Context(), rapport.RoleAdmin, true
	admins, err := s.Users.FindUsers(ctx, rapport.UserFilter{Role: &admin, Active: &yes})
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	inactive := *u
	inactive.Active = false
	if err := rapport.CheckAdminsLeft(u, &inactive, len(admins)); err != nil {
		s.renderUsers(w, r, http.StatusConflict, usersData{Refused: rapport.ErrorMessage(err), RefusedID: u.ID})
		return
	}
	d := deactivateData{User: u, Self: currentUser(r).ID == u.ID}
	if d.Customers, err = s.ownedCustomers(r, u.ID); err != nil {
		s.serverError(w, r, err)
		return
	}
	if d.Cases, err = s.Recovery.CountCases(ctx, rapport.CaseFilter{AssigneeID: u.ID, Status: rapport.CaseOpen}); err != nil {
		s.serverError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "settings_user_deactivate", "", s.newPage(r, "Deactivate "+u.Name+"?", "settings", d))
}
