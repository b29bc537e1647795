package importer

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/bits"
	"strings"
	"unicode/utf8"

	"github.com/authpool/authpool/api"
)

// auth0User is a user of Auth0's bulk import file (a JSON array; JSON
// lines are read too), https://auth0.com/docs/manage-users/user-migration/bulk-user-imports.
type auth0User struct {
	UserID             string                     `json:"user_id"`
	Email              string                     `json:"email"`
	EmailVerified      bool                       `json:"email_verified"`
	Username           string                     `json:"username"`
	GivenName          string                     `json:"given_name"`
	FamilyName         string                     `json:"family_name"`
	Name               string                     `json:"name"`
	Nickname           string                     `json:"nickname"`
	Picture            string                     `json:"picture"`
	Blocked            bool                       `json:"blocked"`
	PhoneNumber        string                     `json:"phone_number"`
	PhoneVerified      bool                       `json:"phone_verified"`
	PasswordHash       string                     `json:"password_hash"`
	CustomPasswordHash *auth0CustomHash           `json:"custom_password_hash"`
	AppMetadata        map[string]json.RawMessage `json:"app_metadata"`
	UserMetadata       map[string]json.RawMessage `json:"user_metadata"`
	Identities         []struct {
		Provider   string `json:"provider"`
		UserID     any    `json:"user_id"`
		Connection string `json:"connection"`
	} `json:"identities"`
}

type auth0Encoded struct {
	Value    string `json:"value"`
	Encoding string `json:"encoding"`
	Position string `json:"position"`
}

type auth0CustomHash struct {
	Algorithm       string        `json:"algorithm"`
	Hash            auth0Encoded  `json:"hash"`
	Salt            *auth0Encoded `json:"salt"`
	Password        *auth0Encoded `json:"password"`
	Keylen          int           `json:"keylen"`
	Cost            int           `json:"cost"`
	BlockSize       int           `json:"blockSize"`
	Parallelization int           `json:"parallelization"`
}

type auth0Reader struct{ s *jsonStream }

func newAuth0(r io.Reader, _ Options) (Reader, error) {
	return &auth0Reader{s: newJSONStream(r, "")}, nil
}

func (a *auth0Reader) Next() (int, *api.UserRecord, error) {
	var u auth0User
	n, err := a.s.next(&u)
	if err != nil {
		return n, nil, err
	}
	rec := &api.UserRecord{
		ID: u.UserID, ExternalID: u.UserID, Email: u.Email, EmailVerified: u.EmailVerified,
		Phone: u.PhoneNumber, PhoneVerified: u.PhoneVerified, Blocked: u.Blocked,
	}
	rec.Username, rec.GivenName, rec.FamilyName, rec.Name, rec.Nickname, rec.Photo =
		u.Username, u.GivenName, u.FamilyName, u.Name, u.Nickname, u.Picture
	rec.CustomData = customData(customData(nil, u.AppMetadata), u.UserMetadata)
	for _, id := range u.Identities {
		rec.Identities = append(rec.Identities, api.Identity{Provider: id.Provider, Subject: fmt.Sprint(id.UserID)})
	}
	switch {
	case u.PasswordHash != "" && u.CustomPasswordHash != nil:
		return n, nil, refuse(n, "invalid_password_hash", "password_hash and custom_password_hash are exclusive")
	case u.PasswordHash != "":
		rec.PasswordHash = u.PasswordHash
	case u.CustomPasswordHash != nil:
		h, err := auth0Hash(u.CustomPasswordHash)
		if err != nil {
			return n, nil, refuse(n, "invalid_password_hash", "custom_password_hash: %v", err)
		}
		rec.PasswordHash = h
	}
	return n, rec, nil
}

// auth0Hash converts a custom_password_hash into a form password.Parse
// reads.
func auth0Hash(c *auth0CustomHash) (string, error) {
	if c.Password != nil && c.Password.Encoding != "" && c.Password.Encoding != "utf8" {
		return "", fmt.Errorf("password encoding %q is not supported (only utf8)", c.Password.Encoding)
	}
	switch c.Algorithm {
	case "bcrypt", "argon2", "pbkdf2":
		// The value is the modular crypt / PHC string itself.
		if c.Hash.Encoding != "" && c.Hash.Encoding != "utf8" {
			return "", fmt.Errorf("%s: hash.encoding must be utf8", c.Algorithm)
		}
		return c.Hash.Value, nil
	case "md5", "sha1", "sha256", "sha512":
		if c.Hash.Encoding == "" {
			c.Hash.Encoding = "hex"
		}
		hash, err := decodeBytes(c.Hash)
		if err != nil {
			return "", err
		}
		legacy := map[string]string{"algorithm": c.Algorithm, "hash": hex.EncodeToString(hash)}
		if c.Salt != nil && c.Salt.Value != "" {
			salt, err := decodeBytes(*c.Salt)
			if err != nil {
				return "", err
			}
			if !utf8.Valid(salt) {
				return "", fmt.Errorf("a binary salt is not supported by legacy digests")
			}
			legacy["salt"] = string(salt)
			legacy["pattern"] = "@salt@password"
			if c.Salt.Position == "suffix" {
				legacy["pattern"] = "@password@salt"
			}
		}
		b, _ := json.Marshal(legacy)
		return string(b), nil
	case "scrypt":
		hash, err := decodeBytes(c.Hash)
		if err != nil {
			return "", err
		}
		if c.Salt == nil {
			return "", fmt.Errorf("scrypt needs a salt")
		}
		salt, err := decodeBytes(*c.Salt)
		if err != nil {
			return "", err
		}
		n, r, p := c.Cost, c.BlockSize, c.Parallelization
		if n == 0 {
			n = 16384
		}
		if r == 0 {
			r = 8
		}
		if p == 0 {
			p = 1
		}
		if n < 2 || n&(n-1) != 0 {
			return "", fmt.Errorf("scrypt cost %d is not a power of two", n)
		}
		return fmt.Sprintf("$scrypt$ln=%d,r=%d,p=%d$%s$%s", bits.TrailingZeros(uint(n)), r, p,
			base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(hash)), nil
	}
	return "", fmt.Errorf("algorithm %q is not supported", c.Algorithm)
}

func decodeBytes(e auth0Encoded) ([]byte, error) {
	switch e.Encoding {
	case "hex":
		return hex.DecodeString(e.Value)
	case "base64":
		return base64.StdEncoding.DecodeString(e.Value)
	case "", "utf8":
		return []byte(e.Value), nil
	}
	return nil, fmt.Errorf("encoding %q is not supported", strings.TrimSpace(e.Encoding))
}
