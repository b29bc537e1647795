package connector

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/oauth2"

	"github.com/authpool/authpool/internal/userpool"
)

// Sign in with Apple: an OpenID provider (discovery, JWKS, ID token) whose
// client secret is not a stored string but an ES256 JWT the client signs
// with its .p8 key (issued by the team, about the services id, for
// Apple), and which posts its answer back (response_mode=form_post) when
// the name or email is asked for. The user's name comes only once, at the
// first authorization, as the unsigned "user" form field.
const (
	appleIssuer = "https://appleid.apple.com"
	// appleAudience is the client secret's audience: Apple's, whatever
	// issuer a stand-in uses.
	appleAudience = "https://appleid.apple.com"
	// appleSecretTTL: a secret is made for each token request and lives
	// only as long as that request may take (Apple accepts up to 6 months).
	appleSecretTTL = 5 * time.Minute
	// maxAppleUser bounds the "user" form field read.
	maxAppleUser = 4096
)

// ParseAppleKey reads an Apple .p8 key: a PKCS #8 (or SEC 1) PEM EC key on
// P-256. The admin API checks it when the key is set.
func ParseAppleKey(pemText string) (*ecdsa.PrivateKey, error) {
	key, err := jwt.ParseECPrivateKeyFromPEM([]byte(strings.TrimSpace(pemText)))
	if err != nil {
		return nil, errors.New("the key is not a PEM EC private key (Apple's .p8 file)")
	}
	if key.Curve != elliptic.P256() {
		return nil, errors.New("the key is not on P-256 (ES256)")
	}
	return key, nil
}

type appleUpstream struct {
	oidc *oidcUpstream
	key  *ecdsa.PrivateKey
}

func newApple(g *Registry, c *userpool.Connector, secret, redirect string) (Upstream, error) {
	key, err := ParseAppleKey(secret)
	if err != nil {
		return nil, fmt.Errorf("connector %s: %w", c.ID, err)
	}
	cc := *c
	if len(cc.Scopes) == 0 {
		cc.Scopes = []string{"name", "email"} // Apple knows no "profile"
	}
	return &appleUpstream{key: key, oidc: &oidcUpstream{
		g: g, c: &cc, redirect: redirect, issuer: or(c.Issuer, appleIssuer),
		claimsOnly: true, authStyle: oauth2.AuthStyleInParams,
	}}, nil
}

// clientSecret is the JWT Apple takes as the client secret.
func (u *appleUpstream) clientSecret() (string, error) {
	now := u.oidc.g.now()
	t := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{
		"iss": u.oidc.c.TeamID, "sub": u.oidc.c.ClientID, "aud": appleAudience,
		"iat": now.Unix(), "exp": now.Add(appleSecretTTL).Unix(),
	})
	t.Header["kid"] = u.oidc.c.KeyID
	return t.SignedString(u.key)
}

// AuthURL asks Apple to post the answer (required with the name or email
// scope): the callback takes POST (docs/SOCIAL.md on its cookie).
func (u *appleUpstream) AuthURL(ctx context.Context, r Request) (string, error) {
	cfg, _, err := u.oidc.config(ctx)
	if err != nil {
		return "", err
	}
	return cfg.AuthCodeURL(r.State, oauth2.SetAuthURLParam("nonce", r.Nonce), oauth2.S256ChallengeOption(r.Verifier),
		oauth2.SetAuthURLParam("response_mode", "form_post")), nil
}

func (u *appleUpstream) Exchange(ctx context.Context, r Request, code string) (*Profile, error) {
	secret, err := u.clientSecret()
	if err != nil {
		return nil, userpool.Internal(err)
	}
	o := *u.oidc
	o.secret = secret
	p, err := o.Exchange(ctx, r, code)
	if err != nil {
		return nil, err
	}
	// The ID token's email and email_verified are Apple's word; the
	// "user" field is unsigned, so only the display name is read from it.
	if p.Name == "" && r.FormUser != "" && len(r.FormUser) <= maxAppleUser {
		var fu struct {
			Name struct {
				FirstName string `json:"firstName"`
				LastName  string `json:"lastName"`
			} `json:"name"`
		}
		if json.Unmarshal([]byte(r.FormUser), &fu) == nil {
			p.Name = truncate(strings.TrimSpace(fu.Name.FirstName+" "+fu.Name.LastName), 256)
			if p.Name != "" {
				p.Claims["name"] = p.Name
			}
		}
	}
	return p, nil
}
