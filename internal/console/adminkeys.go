package console

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/authpool/authpool/internal/userpool"
)

// adminKeysData is the operators' keys page: the named admin keys (the
// server's, shared by every pool, so the page sits in each pool's
// navigation like the signing keys). Key is set only in the answer that
// created one: shown once, stored as its SHA-256.
type adminKeysData struct {
	Keys []*userpool.NamedAdminKey
	// CanManage: only the administrator key creates and revokes keys
	// (the use case refuses any other); other keys see the list.
	CanManage bool
	Key       string // the new key, this answer only
	NewName   string
	NewRO     bool
}

func (s *Service) adminKeysPage(w http.ResponseWriter, r *http.Request, c *call, status int, d adminKeysData, notice, msg string) error {
	p, err := s.pool(r, c)
	if err != nil {
		return err
	}
	keys, err := s.d.Admin.ListNamedKeys(r.Context())
	if err != nil {
		return err
	}
	d.Keys, d.CanManage = keys, c.who.KeyID == "" && !c.who.ReadOnly
	pg := Page{Title: "nav.admin_keys", Section: "nav.admin_keys", Pool: p, Data: d, Error: msg}
	if notice != "" {
		pg.Notice = T(c.lang, "done."+notice)
	}
	// A new key is in this answer only: no cache may keep it.
	w.Header().Set("Cache-Control", "no-store")
	s.render(w, r, c, status, "adminkeys", pg)
	return nil
}

// adminKeys lists the named admin keys (never a secret: only hashes are
// stored).
func (s *Service) adminKeys(w http.ResponseWriter, r *http.Request, c *call) error {
	notice := ""
	if k := r.URL.Query().Get("done"); k == "admin_key_revoked" {
		notice = k
	}
	return s.adminKeysPage(w, r, c, http.StatusOK, adminKeysData{}, notice, "")
}

// createAdminKey makes a key for one operator (administrator key only)
// and answers with it, this once.
func (s *Service) createAdminKey(w http.ResponseWriter, r *http.Request, c *call) error {
	name, ro := strings.TrimSpace(r.PostForm.Get("name")), r.PostForm.Get("readOnly") == "1"
	key, _, err := s.d.Admin.CreateNamedKey(r.Context(), c.meta, name, ro)
	if err != nil {
		if st := statusOf(codeOf(err)); st == http.StatusBadRequest || st == http.StatusForbidden {
			return s.adminKeysPage(w, r, c, st, adminKeysData{NewName: name, NewRO: ro}, "", formError(c.lang, err))
		}
		return err
	}
	return s.adminKeysPage(w, r, c, http.StatusCreated, adminKeysData{Key: key}, "admin_key_created", "")
}

// revokeAdminKey stops a key at once and ends its console sessions, once
// the box is ticked (administrator key only).
func (s *Service) revokeAdminKey(w http.ResponseWriter, r *http.Request, c *call) error {
	if r.PostForm.Get("confirm") != "1" {
		return userpool.Errorf(userpool.CodeInvalidArgument, "confirmation_required", "%s", T(c.lang, "common.unconfirmed"))
	}
	if err := s.d.Admin.RevokeNamedKey(r.Context(), c.meta, r.PathValue("keyId")); err != nil {
		return err
	}
	s.redirect(w, r, s.d.Path+"/pools/"+url.PathEscape(c.meta.PoolID)+"/admin-keys?done=admin_key_revoked")
	return nil
}
