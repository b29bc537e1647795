package httpapi

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/authpool/authpool/api"
	"github.com/authpool/authpool/internal/admin"
	"github.com/authpool/authpool/internal/userpool"
)

// queryInt reads a non-negative integer query parameter ("" is 0).
func queryInt(q url.Values, name string) (int, error) {
	v := q.Get(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, userpool.Errorf(userpool.CodeInvalidArgument, "invalid_query", "query parameter %q must be a non-negative integer", name)
	}
	return n, nil
}

// queryTime reads an RFC 3339 query parameter ("" is the zero time).
func queryTime(q url.Values, name string) (time.Time, error) {
	v := q.Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, userpool.Errorf(userpool.CodeInvalidArgument, "invalid_query", "query parameter %q must be RFC 3339 time such as 2024-05-01T00:00:00Z", name)
	}
	return t, nil
}

func (s *Server) adminListUsers(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	offset, err := queryInt(q, "offset")
	if err != nil {
		return err
	}
	limit, err := queryInt(q, "limit")
	if err != nil {
		return err
	}
	users, total, err := s.Admin.ListUsers(r.Context(), s.adminMeta(r), q.Get("search"), offset, limit)
	if err != nil {
		return err
	}
	if limit == 0 {
		limit = 20
	}
	out := api.UserList{Users: make([]api.User, len(users)), Total: total, Offset: offset, Limit: limit}
	for i, u := range users {
		out.Users[i] = fromUser(u)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) adminCreateUser(w http.ResponseWriter, r *http.Request) error {
	var in api.CreateUserRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	custom, err := rawCustomData(in.CustomData)
	if err != nil {
		return err
	}
	res, err := s.Admin.CreateUser(r.Context(), s.adminMeta(r), admin.NewUser{
		Email: in.Email, Username: in.Username, Phone: in.Phone, Password: in.Password, PasswordHash: in.PasswordHash,
		Profile: toProfile(in.Profile), EmailVerified: in.EmailVerified, PhoneVerified: in.PhoneVerified,
		CustomData: custom,
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, fromResult(res))
	return nil
}

func (s *Server) adminGetUser(w http.ResponseWriter, r *http.Request) error {
	res, err := s.Admin.GetUser(r.Context(), s.adminMeta(r), r.PathValue("userId"))
	if err != nil {
		return err
	}
	ids, err := s.Admin.UserIdentities(r.Context(), s.adminMeta(r), res.User.ID)
	if err != nil {
		return err
	}
	out := fromResult(res)
	out.Identities = fromIdentities(ids)
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) adminUpdateUser(w http.ResponseWriter, r *http.Request) error {
	var in api.UpdateUserRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	res, err := s.Admin.UpdateUser(r.Context(), s.adminMeta(r), r.PathValue("userId"), admin.UserUpdate{
		EmailVerified: in.EmailVerified, PhoneVerified: in.PhoneVerified,
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, fromResult(res))
	return nil
}

func (s *Server) adminDeleteUser(w http.ResponseWriter, r *http.Request) error {
	if err := s.Admin.DeleteUser(r.Context(), s.adminMeta(r), r.PathValue("userId")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) adminBlockUser(w http.ResponseWriter, r *http.Request) error {
	res, n, err := s.Admin.BlockUser(r.Context(), s.adminMeta(r), r.PathValue("userId"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, api.BlockedUser{User: fromResult(res), SessionsRevoked: n})
	return nil
}

func (s *Server) adminUnblockUser(w http.ResponseWriter, r *http.Request) error {
	res, err := s.Admin.UnblockUser(r.Context(), s.adminMeta(r), r.PathValue("userId"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, fromResult(res))
	return nil
}

func (s *Server) adminListSessions(w http.ResponseWriter, r *http.Request) error {
	list, err := s.Admin.ListSessions(r.Context(), s.adminMeta(r), r.PathValue("userId"))
	if err != nil {
		return err
	}
	out := api.SessionList{Sessions: make([]api.Session, len(list))}
	for i, x := range list {
		out.Sessions[i] = api.Session{ID: x.ID, UserID: x.UserID, CreatedAt: x.CreatedAt, ExpiresAt: x.ExpiresAt, ClientIP: x.ClientIP, UserAgent: x.UserAgent}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) adminRevokeSessions(w http.ResponseWriter, r *http.Request) error {
	n, err := s.Admin.RevokeSessions(r.Context(), s.adminMeta(r), r.PathValue("userId"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, api.RevokedSessions{Revoked: n})
	return nil
}

func (s *Server) adminRevokeSession(w http.ResponseWriter, r *http.Request) error {
	if err := s.Admin.RevokeSession(r.Context(), s.adminMeta(r), r.PathValue("userId"), r.PathValue("sessionId")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) adminListAudit(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	var (
		f   = userpool.AuditFilter{UserID: q.Get("userId"), Event: q.Get("event")}
		err error
	)
	if f.Since, err = queryTime(q, "since"); err != nil {
		return err
	}
	if f.Until, err = queryTime(q, "until"); err != nil {
		return err
	}
	if f.Limit, err = queryInt(q, "limit"); err != nil {
		return err
	}
	events, err := s.Admin.ListAudit(r.Context(), s.adminMeta(r), f)
	if err != nil {
		return err
	}
	out := api.AuditList{Events: make([]api.AuditEvent, len(events))}
	for i, e := range events {
		out.Events[i] = api.AuditEvent{ID: e.ID, UserID: e.UserID, Event: e.Event, ClientIP: e.ClientIP, UserAgent: e.UserAgent, Detail: e.Detail, CreatedAt: e.CreatedAt}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
