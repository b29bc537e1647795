package httpapi

import (
	"encoding/json"
	"net/http"

	"github.com/authpool/authpool/api"
	"github.com/authpool/authpool/internal/admin"
	"github.com/authpool/authpool/internal/userpool"
)

// fromConnector shows a connector; the client secret never leaves.
func (s *Server) fromConnector(c *userpool.Connector) api.Connector {
	return api.Connector{
		ID: c.ID, Type: c.Type, Label: c.Label, Icon: c.Icon, Enabled: c.Enabled, ClientID: c.ClientID, HasSecret: c.HasSecret,
		Issuer: c.Issuer, AuthURL: c.AuthURL, TokenURL: c.TokenURL, UserInfoURL: c.UserInfoURL, Scopes: c.Scopes, ClaimMap: c.ClaimMap,
		TeamID: c.TeamID, KeyID: c.KeyID, Tenant: c.Tenant, CallbackURL: s.PublicBase + SocialCallbackPath,
		CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
	}
}

// fromIdentities shows identities with their kept claims.
func fromIdentities(ids []*userpool.Identity) []api.Identity {
	out := make([]api.Identity, len(ids))
	for i, id := range ids {
		data := json.RawMessage(id.Data)
		if !json.Valid(data) {
			data = json.RawMessage("{}")
		}
		out[i] = api.Identity{Provider: id.Provider, Subject: id.Subject, Data: data, CreatedAt: id.CreatedAt}
	}
	return out
}

func (s *Server) adminListConnectors(w http.ResponseWriter, r *http.Request) error {
	list, err := s.Admin.ListConnectors(r.Context(), s.adminMeta(r))
	if err != nil {
		return err
	}
	out := api.ConnectorList{Connectors: make([]api.Connector, len(list))}
	for i, c := range list {
		out.Connectors[i] = s.fromConnector(c)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) adminCreateConnector(w http.ResponseWriter, r *http.Request) error {
	var in api.CreateConnectorRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if err := required("id", in.ID, "type", in.Type, "clientId", in.ClientID); err != nil {
		return err
	}
	c := userpool.Connector{
		ID: in.ID, Type: in.Type, Label: in.Label, Icon: in.Icon, Enabled: in.Enabled == nil || *in.Enabled, ClientID: in.ClientID,
		Issuer: in.Issuer, AuthURL: in.AuthURL, TokenURL: in.TokenURL, UserInfoURL: in.UserInfoURL, Scopes: in.Scopes, ClaimMap: in.ClaimMap,
		TeamID: in.TeamID, KeyID: in.KeyID, Tenant: in.Tenant,
	}
	created, err := s.Admin.CreateConnector(r.Context(), s.adminMeta(r), c, in.ClientSecret)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, s.fromConnector(created))
	return nil
}

func (s *Server) adminGetConnector(w http.ResponseWriter, r *http.Request) error {
	c, err := s.Admin.GetConnector(r.Context(), s.adminMeta(r), r.PathValue("connectorId"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.fromConnector(c))
	return nil
}

func (s *Server) adminUpdateConnector(w http.ResponseWriter, r *http.Request) error {
	var in api.UpdateConnectorRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	c, err := s.Admin.UpdateConnector(r.Context(), s.adminMeta(r), r.PathValue("connectorId"), admin.ConnectorUpdate{
		Label: in.Label, Icon: in.Icon, ClientID: in.ClientID, Secret: in.ClientSecret, Issuer: in.Issuer, AuthURL: in.AuthURL,
		TokenURL: in.TokenURL, UserInfo: in.UserInfoURL, TeamID: in.TeamID, KeyID: in.KeyID, Tenant: in.Tenant,
		Enabled: in.Enabled, Scopes: in.Scopes, ClaimMap: in.ClaimMap,
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.fromConnector(c))
	return nil
}

func (s *Server) adminDeleteConnector(w http.ResponseWriter, r *http.Request) error {
	if err := s.Admin.DeleteConnector(r.Context(), s.adminMeta(r), r.PathValue("connectorId")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
