package console

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/authpool/authpool/internal/admin"
	"github.com/authpool/authpool/internal/userpool"
)

// connectorsData is the social sign-in page: the pool's connectors, each
// with its settings form, and the create form (kept as typed when it is
// refused). A client secret (an apple connector's .p8 key) is written
// once and never shown again: the forms never hold it.
type connectorsData struct {
	Connectors []*userpool.Connector
	Types      []string
	New        connectorForm
}

// connectorForm is what the create and settings forms carry.
type connectorForm struct {
	ID, Type, Label, Icon, ClientID             string
	Issuer, AuthURL, TokenURL, UserInfoURL      string
	Scopes, TeamID, KeyID, Tenant, ClaimMapText string
	Enabled                                     bool
}

func readConnectorForm(f url.Values) connectorForm {
	return connectorForm{
		ID: strings.TrimSpace(f.Get("id")), Type: f.Get("type"), Label: f.Get("label"), Icon: f.Get("icon"), ClientID: strings.TrimSpace(f.Get("clientId")),
		Issuer: strings.TrimSpace(f.Get("issuer")), AuthURL: strings.TrimSpace(f.Get("authUrl")), TokenURL: strings.TrimSpace(f.Get("tokenUrl")),
		UserInfoURL: strings.TrimSpace(f.Get("userInfoUrl")), Scopes: f.Get("scopes"), TeamID: strings.TrimSpace(f.Get("teamId")),
		KeyID: strings.TrimSpace(f.Get("keyId")), Tenant: strings.TrimSpace(f.Get("tenant")), ClaimMapText: f.Get("claimMap"),
		Enabled: f.Get("enabled") == "1",
	}
}

// claimMap reads "claim = upstream.key" lines; a line without "=" is
// refused by the use case's validation as an empty mapping.
func claimMap(text string) map[string]string {
	out := map[string]string{}
	for _, l := range lines(text) {
		k, v, _ := strings.Cut(l, "=")
		out[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return out
}

func (s *Service) connectorsPage(w http.ResponseWriter, r *http.Request, c *call, p *userpool.Pool, status int, d connectorsData, msg string) error {
	list, err := s.d.Admin.ListConnectors(r.Context(), c.meta)
	if err != nil {
		return err
	}
	d.Connectors, d.Types = list, userpool.ConnectorTypes
	pg := Page{Title: "nav.connectors", Section: "nav.connectors", Pool: p, Data: d, Error: msg}
	if k := r.URL.Query().Get("done"); msg == "" && (k == "connector_created" || k == "connector_updated" || k == "connector_deleted") {
		pg.Notice = T(c.lang, "done."+k)
	}
	s.render(w, r, c, status, "connectors", pg)
	return nil
}

// connectors lists the pool's social sign-in connectors.
func (s *Service) connectors(w http.ResponseWriter, r *http.Request, c *call) error {
	p, err := s.pool(r, c)
	if err != nil {
		return err
	}
	return s.connectorsPage(w, r, c, p, http.StatusOK, connectorsData{New: connectorForm{Type: userpool.ConnectorOIDC, Enabled: true}}, "")
}

func (s *Service) connectorsDone(w http.ResponseWriter, r *http.Request, c *call, notice string) {
	s.redirect(w, r, s.d.Path+"/pools/"+url.PathEscape(c.meta.PoolID)+"/connectors?done="+notice)
}

// createConnector creates a connector through the admin API's use case
// (its validation: https URLs, the preset's required fields, the apple
// key); the secret goes sealed into the store.
func (s *Service) createConnector(w http.ResponseWriter, r *http.Request, c *call) error {
	p, err := s.pool(r, c)
	if err != nil {
		return err
	}
	d := readConnectorForm(r.PostForm)
	in := userpool.Connector{
		ID: d.ID, Type: d.Type, Label: d.Label, Icon: d.Icon, Enabled: d.Enabled, ClientID: d.ClientID,
		Issuer: d.Issuer, AuthURL: d.AuthURL, TokenURL: d.TokenURL, UserInfoURL: d.UserInfoURL,
		Scopes: strings.Fields(d.Scopes), TeamID: d.TeamID, KeyID: d.KeyID, Tenant: d.Tenant,
	}
	if strings.TrimSpace(d.ClaimMapText) != "" {
		in.ClaimMap = claimMap(d.ClaimMapText)
	}
	if _, err := s.d.Admin.CreateConnector(r.Context(), c.meta, in, r.PostForm.Get("clientSecret")); err != nil {
		if statusOf(codeOf(err)) == http.StatusBadRequest || statusOf(codeOf(err)) == http.StatusConflict {
			return s.connectorsPage(w, r, c, p, http.StatusBadRequest, connectorsData{New: d}, formError(c.lang, err))
		}
		return err
	}
	s.connectorsDone(w, r, c, "connector_created")
	return nil
}

// updateConnector saves a connector's settings; an empty secret field
// keeps the stored secret ("remove the secret" is a box of its own).
func (s *Service) updateConnector(w http.ResponseWriter, r *http.Request, c *call) error {
	p, err := s.pool(r, c)
	if err != nil {
		return err
	}
	d := readConnectorForm(r.PostForm)
	scopes, cm := strings.Fields(d.Scopes), claimMap(d.ClaimMapText)
	up := admin.ConnectorUpdate{
		Label: &d.Label, Icon: &d.Icon, ClientID: &d.ClientID, Issuer: &d.Issuer, AuthURL: &d.AuthURL, TokenURL: &d.TokenURL,
		UserInfo: &d.UserInfoURL, TeamID: &d.TeamID, KeyID: &d.KeyID, Tenant: &d.Tenant, Scopes: &scopes, ClaimMap: &cm,
	}
	if sec := r.PostForm.Get("clientSecret"); sec != "" {
		up.Secret = &sec
	} else if r.PostForm.Get("removeSecret") == "1" {
		none := ""
		up.Secret = &none
	}
	if _, err := s.d.Admin.UpdateConnector(r.Context(), c.meta, r.PathValue("connectorId"), up); err != nil {
		if statusOf(codeOf(err)) == http.StatusBadRequest {
			return s.connectorsPage(w, r, c, p, http.StatusBadRequest, connectorsData{New: connectorForm{Type: userpool.ConnectorOIDC, Enabled: true}}, formError(c.lang, err))
		}
		return err
	}
	s.connectorsDone(w, r, c, "connector_updated")
	return nil
}

// setConnectorEnabled turns a connector's button on the sign-in page on
// or off.
func (s *Service) setConnectorEnabled(w http.ResponseWriter, r *http.Request, c *call) error {
	if _, err := s.pool(r, c); err != nil {
		return err
	}
	on := r.PostForm.Get("enabled") == "1"
	if _, err := s.d.Admin.UpdateConnector(r.Context(), c.meta, r.PathValue("connectorId"), admin.ConnectorUpdate{Enabled: &on}); err != nil {
		return err
	}
	s.connectorsDone(w, r, c, "connector_updated")
	return nil
}

// deleteConnector deletes a connector once the box is ticked; the
// identities it linked stay with their users.
func (s *Service) deleteConnector(w http.ResponseWriter, r *http.Request, c *call) error {
	if _, err := s.pool(r, c); err != nil {
		return err
	}
	if r.PostForm.Get("confirm") != "1" {
		return userpool.Errorf(userpool.CodeInvalidArgument, "confirmation_required", "%s", T(c.lang, "common.unconfirmed"))
	}
	if err := s.d.Admin.DeleteConnector(r.Context(), c.meta, r.PathValue("connectorId")); err != nil {
		return err
	}
	s.connectorsDone(w, r, c, "connector_deleted")
	return nil
}
