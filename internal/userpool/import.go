package userpool

import (
	"context"
	"time"
)

// Identity is an account of the user at an upstream identity provider that
// an import brought along (Auth0's google-oauth2 identity, a Firebase
// provider's uid, a Keycloak federated identity). Provider and Subject are
// unique per pool; Data is a JSON object of what the source said about it.
type Identity struct {
	Provider  string
	Subject   string
	Data      string
	CreatedAt time.Time
}

// ImportStatus is what an import did with one record.
type ImportStatus string

// The outcomes of one import record.
const (
	ImportCreated ImportStatus = "imported"
	ImportUpdated ImportStatus = "updated"
	ImportRefused ImportStatus = "refused"
)

// ImportItem is one user of an import batch, checked and normalised by the
// use case. The store matches it to an existing user by (pool, source,
// ExternalID), else by the email's comparison key, and then creates or
// updates it; it fills Status, UserID and Err.
type ImportItem struct {
	// User holds the fields to write; ID is the preferred id of a new user
	// (kept when free, e.g. a user moving between authpool servers), empty
	// for a random one. LoginsCount and LastLogin of an existing user are
	// kept.
	User       *User
	ExternalID string
	Values     []*UserValue
	Identities []*Identity

	Status ImportStatus
	UserID string
	Err    error
}

// ExportedUser is a user with everything an export carries.
type ExportedUser struct {
	*User
	Values     []*UserValue
	Identities []*Identity
}

// ExportQuery selects one page of a pool's users for an export, in id
// order after AfterID.
type ExportQuery struct {
	PoolID  string
	Search  string
	AfterID string
	Limit   int
}

// ImportStore writes and reads users in bulk.
type ImportStore interface {
	// ImportUsers writes the batch in one transaction with recs; each
	// item that cannot be written (an identifier another user holds, an
	// email another record of the same source already took) is refused
	// alone (Status ImportRefused, Err) and the others are written. With
	// dryRun the transaction is rolled back after every item was tried, so
	// the outcomes are the ones a real run would have had.
	ImportUsers(ctx context.Context, poolID, source string, items []*ImportItem, dryRun bool, recs ...Record) error
	// ExportUsers returns one page of users with their values and
	// identities.
	ExportUsers(ctx context.Context, q ExportQuery) ([]*ExportedUser, error)
}
