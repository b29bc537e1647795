package api

import (
	"encoding/json"
	"time"
)

// Bounds of the import and export routes.
const (
	// MaxImportLineBytes bounds one line of an import body (one user).
	MaxImportLineBytes = 64 << 10
	// MaxImportIdentities bounds the upstream identities of one user.
	MaxImportIdentities = 20
	// ImportBatchSize is how many lines the server writes in one
	// transaction; the report of a batch is sent once it has committed.
	ImportBatchSize = 500
)

// UserRecord is one line of an export and of an import
// (`POST /api/v1/admin/pools/{poolId}/users/import`, JSON lines): a user
// with everything that moves with it. An export fills ID, counts and
// times; an import reads ExternalID (the source system's stable id; ID
// when empty), takes ID as the new user's id when it is free, and ignores
// LoginsCount, LastLogin and UpdatedAt.
type UserRecord struct {
	ID            string `json:"id,omitempty"`
	ExternalID    string `json:"externalId,omitempty"`
	Email         string `json:"email,omitempty"`
	EmailVerified bool   `json:"emailVerified,omitempty"`
	Phone         string `json:"phone,omitempty"`
	PhoneVerified bool   `json:"phoneVerified,omitempty"`
	Profile
	// PasswordHash is a hash in a format docs/MIGRATION.md lists. An
	// export carries it only when asked to (includeHashes=true).
	PasswordHash string                     `json:"passwordHash,omitempty"`
	Blocked      bool                       `json:"blocked,omitempty"`
	SignedUp     time.Time                  `json:"signedUp,omitzero"`
	CreatedAt    time.Time                  `json:"createdAt,omitzero"`
	UpdatedAt    time.Time                  `json:"updatedAt,omitzero"`
	LoginsCount  int                        `json:"loginsCount,omitempty"`
	LastLogin    time.Time                  `json:"lastLogin,omitzero"`
	CustomData   map[string]json.RawMessage `json:"customData,omitempty"`
	// CustomDataTypes gives a key's data type (STRING, NUMBER, BOOLEAN,
	// DATETIME, OBJECT); an import defines a missing field with it, or
	// with the JSON kind of the value when absent.
	CustomDataTypes map[string]string `json:"customDataTypes,omitempty"`
	Identities      []Identity        `json:"identities,omitempty"`
}

// Identity is an account of the user at an upstream identity provider:
// Provider is the connector's id (or an imported provider's name),
// Subject the upstream's id of the user, Data what the upstream (or the
// source) said of the user's profile, as a JSON object. CreatedAt is
// when it was linked (shown by the identities routes, not in exports).
type Identity struct {
	Provider  string          `json:"provider"`
	Subject   string          `json:"subject"`
	Data      json.RawMessage `json:"data,omitempty"`
	CreatedAt time.Time       `json:"createdAt,omitzero"`
}

// The statuses of an import report line.
const (
	ImportStatusImported = "imported"
	ImportStatusUpdated  = "updated"
	ImportStatusRefused  = "refused"
)

// ImportReport is one line of an import's answer (JSON lines): the
// outcome of one input line, in input order, or, last, the Summary.
type ImportReport struct {
	Line       int    `json:"line,omitempty"`
	Status     string `json:"status,omitempty"`
	UserID     string `json:"userId,omitempty"`
	ExternalID string `json:"externalId,omitempty"`
	// Code, Reason and Message say why a line was refused.
	Code    int            `json:"code,omitempty"`
	Reason  string         `json:"reason,omitempty"`
	Message string         `json:"message,omitempty"`
	Summary *ImportSummary `json:"summary,omitempty"`
}

// ImportSummary closes an import's answer. Error is set when the import
// stopped before the end of the body (the lines reported before it are
// done).
type ImportSummary struct {
	Imported int        `json:"imported"`
	Updated  int        `json:"updated"`
	Refused  int        `json:"refused"`
	DryRun   bool       `json:"dryRun,omitempty"`
	Error    *ErrorBody `json:"error,omitempty"`
}
