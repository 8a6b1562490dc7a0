package api

import (
	"net/http"

	"github.com/rapport-crm/rapport"
)

func (s *Server) handleMe(w http.ResponseWriter, r *http.Request) {
	encode(w, http.StatusOK, rapport.PrincipalFromContext(r.Context()))
}

// userInput is what an admin sets on a new user.
type userInput struct {
	Email     string       `json:"email"`
	Name      string       `json:"name"`
	Role      rapport.Role `json:"role"`
	Team      string       `json:"team"`
	ManagerID string       `json:"manager_id"`
}

func (s *Server) handleListUsers(w http.ResponseWriter, r *http.Request) {
	var f rapport.UserFilter
	if role := rapport.Role(r.URL.Query().Get("role")); role != "" {
		if !role.Valid() {
			writeError(w, r, s.Logger, &rapport.Error{Code: rapport.EINVALID, Message: "The query is not valid.",
				Fields: []rapport.FieldError{{Field: "role", Message: "must be one of admin, manager, agent, viewer"}}})
			return
		}
		f.Role = &role
	}
	if team := r.URL.Query().Get("team"); team != "" {
		f.Team = &team
	}
	switch active := r.URL.Query().Get("active"); active {
	case "":
	case "true", "false":
		f.Active = new(bool)
		*f.Active = active == "true"
	default:
		writeError(w, r, s.Logger, &rapport.Error{Code: rapport.EINVALID, Message: "The query is not valid.",
			Fields: []rapport.FieldError{{Field: "active", Message: "must be true or false"}}})
		return
	}
	users, err := s.Users.FindUsers(r.Context(), f)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusOK, rapport.Page[*rapport.User]{Items: users})
}

func (s *Server) handleCreateUser(w http.ResponseWriter, r *http.Request) {
	var in userInput
	if err := decode(w, r, maxBodyBytes, &in); err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	u := &rapport.User{Email: in.Email, Name: in.Name, Role: in.Role, Team: in.Team, ManagerID: in.ManagerID}
	if err := s.Users.CreateUser(r.Context(), u); err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	w.Header().Set("Location", "/api/v1/users/"+u.ID)
	encode(w, http.StatusCreated, u)
}

func (s *Server) handleUpdateUser(w http.ResponseWriter, r *http.Request) {
	var up rapport.UserUpdate
	if err := decode(w, r, maxBodyBytes, &up); err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	u, err := s.Users.UpdateUser(r.Context(), r.PathValue("id"), up)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusOK, u)
}

func (s *Server) handleGetUser(w http.ResponseWriter, r *http.Request) {
	u, err := s.Users.FindUserByID(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusOK, u)
}

// tokenInput is what an admin sets on a new token.
type tokenInput struct {
	Name   string       `json:"name"`
	Role   rapport.Role `json:"role"`
	UserID string       `json:"user_id"`
}

// createdToken is a new token with its secret, shown this once only.
type createdToken struct {
	*rapport.Token
	Secret string `json:"secret"`
}

func (s *Server) handleListTokens(w http.ResponseWriter, r *http.Request) {
	ts, err := s.Tokens.FindTokens(r.Context())
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusOK, rapport.Page[*rapport.Token]{Items: ts})
}

func (s *Server) handleCreateToken(w http.ResponseWriter, r *http.Request) {
	var in tokenInput
	if err := decode(w, r, maxBodyBytes, &in); err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	t := &rapport.Token{Name: in.Name, Role: in.Role, UserID: in.UserID}
	secret, err := s.Tokens.CreateToken(r.Context(), t)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusCreated, createdToken{Token: t, Secret: secret})
}

func (s *Server) handleRevokeToken(w http.ResponseWriter, r *http.Request) {
	if err := s.Tokens.RevokeToken(r.Context(), r.PathValue("id")); err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleListSignInHolds(w http.ResponseWriter, r *http.Request) {
	page := rapport.Page[rapport.SignInHold]{Items: []rapport.SignInHold{}}
	if s.SignIns != nil {
		holds, err := rapport.SignInHolds(r.Context(), s.Users, s.SignIns)
		if err != nil {
			writeError(w, r, s.Logger, err)
			return
		}
		page.Items = append(page.Items, holds...)
	}
	encode(w, http.StatusOK, page)
}

func (s *Server) handleLiftSignInHold(w http.ResponseWriter, r *http.Request) {
	if s.SignIns == nil {
		writeError(w, r, s.Logger, rapport.Errorf(rapport.ENOTFOUND, "This server keeps no sign-in holds."))
		return
	}
	held, err := rapport.LiftSignInHold(r.Context(), s.Users, s.Audit, s.SignIns, r.PathValue("id"))
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	if !held {
		writeError(w, r, s.Logger, rapport.Errorf(rapport.ENOTFOUND, "The user %q is not held from signing in.", r.PathValue("id")))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
