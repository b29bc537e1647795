package api

import "time"

// NamedAdminKey is an administrator key made for one operator. Its secret
// is shown only in the answer that created it (CreatedNamedAdminKey).
type NamedAdminKey struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	ReadOnly  bool       `json:"readOnly"`
	CreatedAt time.Time  `json:"createdAt"`
	RevokedAt *time.Time `json:"revokedAt,omitempty"`
}

// CreateNamedAdminKeyRequest makes a named key; ReadOnly keys may call
// only the GET routes of the admin API and change nothing in the console.
type CreateNamedAdminKeyRequest struct {
	Name     string `json:"name"`
	ReadOnly bool   `json:"readOnly,omitempty"`
}

// CreatedNamedAdminKey is the answer of a create: the key and, once, its
// secret.
type CreatedNamedAdminKey struct {
	NamedAdminKey
	Key string `json:"key"`
}

// NamedAdminKeyList lists the named keys, revoked ones too, oldest first.
type NamedAdminKeyList struct {
	Keys []NamedAdminKey `json:"keys"`
}
