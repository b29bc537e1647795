package api

import "time"

// GrantedApp is an application the user consented to on the hosted
// consent page (GET /api/v1/users/me/apps): the scopes granted and when.
type GrantedApp struct {
	AppID     string    `json:"appId"`
	Name      string    `json:"name"`
	Scopes    []string  `json:"scopes"`
	GrantedAt time.Time `json:"grantedAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}
