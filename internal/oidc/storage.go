package oidc

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/authpool/authpool/internal/userpool"
	jose "github.com/go-jose/go-jose/v4"
	zoidc "github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"
)

// storage is op.Storage for one pool.
type storage struct {
	s      *Service
	poolID string
	prefix string
}

var (
	_ op.Storage                        = (*storage)(nil)
	_ op.ClientCredentialsStorage       = (*storage)(nil)
	_ op.CanSetUserinfoFromRequest      = (*storage)(nil)
	_ op.CanTerminateSessionFromRequest = (*storage)(nil)
)

func (st *storage) now() time.Time { return st.s.d.Now().UTC() }

func (st *storage) audit(userID, event string, detail map[string]string) *userpool.AuditEvent {
	return &userpool.AuditEvent{PoolID: st.poolID, UserID: userID, Event: event, Detail: detail, CreatedAt: st.now()}
}

func newID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}

func (st *storage) mac(purpose string, parts ...string) []byte {
	m := hmac.New(sha256.New, derive(st.s.secret, purpose))
	m.Write([]byte(st.poolID))
	for _, p := range parts {
		m.Write([]byte{0})
		m.Write([]byte(p))
	}
	return m.Sum(nil)
}

func (st *storage) codeHash(code string) []byte { return st.mac("code", code) }

// Refresh tokens are "apr_{grant}.{seq}.{mac}": the grant they belong to,
// their number in it, and a MAC under the server secret, so that only
// tokens the server minted are looked at and a reader of the database
// cannot mint one.
const refreshPrefix = "apr_"

func (st *storage) mintRefresh(grantID string, seq int64) string {
	n := strconv.FormatInt(seq, 10)
	return refreshPrefix + grantID + "." + n + "." + base64.RawURLEncoding.EncodeToString(st.mac("refresh", grantID, n))
}

func (st *storage) parseRefresh(tok string) (grantID string, seq int64, ok bool) {
	rest, ok := strings.CutPrefix(tok, refreshPrefix)
	if !ok || len(tok) > 200 {
		return "", 0, false
	}
	parts := strings.Split(rest, ".")
	if len(parts) != 3 {
		return "", 0, false
	}
	seq, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || seq < 0 || strconv.FormatInt(seq, 10) != parts[1] {
		return "", 0, false
	}
	got, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || !hmac.Equal(got, st.mac("refresh", parts[0], parts[1])) {
		return "", 0, false
	}
	return parts[0], seq, true
}

// Access token ids (the jti) are "{grant}.{random}".
func tokenID(grantID string) string {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return grantID + "." + hex.EncodeToString(b)
}

func grantOf(tokenID string) string {
	g, _, _ := strings.Cut(tokenID, ".")
	return g
}

// --- clients ---

func (st *storage) app(ctx context.Context, clientID string) (*userpool.App, error) {
	if clientID == "" || len(clientID) > 64 {
		return nil, errors.New("unknown client")
	}
	a, err := st.s.d.Store.GetApp(ctx, st.poolID, clientID)
	if errors.Is(err, userpool.ErrNotFound) {
		return nil, errors.New("unknown client")
	}
	if err != nil {
		return nil, zoidc.ErrServerError().WithParent(err)
	}
	return a, nil
}

func (st *storage) GetClientByClientID(ctx context.Context, clientID string) (op.Client, error) {
	a, err := st.app(ctx, clientID)
	if err != nil {
		return nil, err
	}
	return &client{app: a, prefix: st.prefix}, nil
}

// AuthorizeClientIDSecret checks a confidential client's secret with the
// admin use case (constant time; one answer for every failure).
func (st *storage) AuthorizeClientIDSecret(ctx context.Context, clientID, secret string) error {
	_, err := st.s.d.Admin.VerifyAppSecret(ctx, st.poolID, clientID, secret)
	if err != nil && userpool.AsError(err).Code == userpool.CodeInternal {
		return zoidc.ErrServerError().WithParent(err)
	}
	return err
}

// ClientCredentials authenticates a machine app; any other app (a public
// one has no secret; a web app acts for users) is refused.
func (st *storage) ClientCredentials(ctx context.Context, clientID, secret string) (op.Client, error) {
	if err := st.AuthorizeClientIDSecret(ctx, clientID, secret); err != nil {
		return nil, err
	}
	a, err := st.app(ctx, clientID)
	if err != nil {
		return nil, err
	}
	if a.Type != userpool.AppMachine {
		return nil, zoidc.ErrUnauthorizedClient().WithDescription("client credentials are for machine applications only")
	}
	return &client{app: a, prefix: st.prefix}, nil
}

func (st *storage) ClientCredentialsTokenRequest(ctx context.Context, clientID string, scopes []string) (op.TokenRequest, error) {
	a, err := st.app(ctx, clientID)
	if err != nil {
		return nil, err
	}
	var allowed []string
	for _, sc := range scopes {
		if slices.Contains(a.Scopes, sc) && !slices.Contains(allowed, sc) {
			allowed = append(allowed, sc)
		}
	}
	return &ccRequest{clientID: clientID, scopes: allowed}, nil
}

// --- authorization requests ---

func invalidRequest(desc string) error { return zoidc.ErrInvalidRequest().WithDescription("%s", desc) }

// CreateAuthRequest stores a validated request, after authpool's own
// rules: PKCE with S256 only (plain refused), required for public apps;
// scopes limited to the app's.
func (st *storage) CreateAuthRequest(ctx context.Context, req *zoidc.AuthRequest, hintSubject string) (op.AuthRequest, error) {
	a, err := st.app(ctx, req.ClientID)
	if err != nil {
		return nil, err
	}
	if r := requestFrom(ctx); r != nil && (r.URL.Query().Get("request_uri") != "" || r.Form.Get("request_uri") != "") {
		// authpool never fetches a request object (OIDC Core 6.2): say so
		// rather than ignore parameters the client meant to send.
		return nil, &zoidc.Error{ErrorType: "request_uri_not_supported", Description: "request_uri is not supported: send the parameters in the request"}
	}
	if req.CodeChallenge != "" && req.CodeChallengeMethod != zoidc.CodeChallengeMethodS256 {
		return nil, invalidRequest("code_challenge_method must be S256")
	}
	if req.CodeChallenge == "" && !a.Type.Confidential() {
		return nil, invalidRequest("PKCE (code_challenge with S256) is required for this client")
	}
	if len(req.CodeChallenge) > 128 || len(req.State) > 2048 || len(req.Nonce) > 512 || len(req.LoginHint) > 320 {
		return nil, invalidRequest("a parameter is too long")
	}
	var scopes []string
	for _, sc := range req.Scopes {
		if slices.Contains(a.Scopes, sc) && !slices.Contains(scopes, sc) {
			scopes = append(scopes, sc)
		}
	}
	if !slices.Contains(scopes, "openid") {
		return nil, zoidc.ErrInvalidScope().WithDescription("the openid scope is required and must be allowed for the client")
	}
	var locales []string
	for _, t := range req.UILocales {
		locales = append(locales, t.String())
	}
	data := requestData{
		Scopes: scopes, ResponseType: string(req.ResponseType), ResponseMode: string(req.ResponseMode),
		RedirectURI: req.RedirectURI, State: req.State, Nonce: req.Nonce,
		Challenge: req.CodeChallenge, ChallengeMeth: string(req.CodeChallengeMethod),
		Prompt: req.Prompt, MaxAge: req.MaxAge, LoginHint: req.LoginHint, UILocales: strings.Join(locales, " "),
		HintSubject: hintSubject, ACR: mfaACR(req.ACRValues),
	}
	b, _ := json.Marshal(data) // plain data always encodes
	now := st.now()
	row := &userpool.OIDCAuthRequest{ID: newID(), PoolID: st.poolID, ClientID: a.ID, Data: b, CreatedAt: now, ExpiresAt: now.Add(RequestTTL)}
	if err := st.s.d.Store.CreateOIDCAuthRequest(ctx, row); err != nil {
		return nil, err
	}
	return &authRequest{row: row, data: data}, nil
}

func (st *storage) AuthRequestByID(ctx context.Context, id string) (op.AuthRequest, error) {
	return st.authRequest(ctx, id)
}

func (st *storage) authRequest(ctx context.Context, id string) (*authRequest, error) {
	if id == "" || len(id) > 64 {
		return nil, errors.New("auth request not found")
	}
	row, err := st.s.d.Store.GetOIDCAuthRequest(ctx, st.poolID, id, st.now())
	if errors.Is(err, userpool.ErrNotFound) {
		return nil, errors.New("auth request not found")
	}
	if err != nil {
		return nil, err
	}
	if row.CodeHash != nil {
		return nil, errors.New("auth request already answered")
	}
	return loadAuthRequest(row)
}

// SaveAuthCode keeps the code's keyed hash and bounds the code's life.
func (st *storage) SaveAuthCode(ctx context.Context, id, code string) error {
	_, err := st.s.d.Store.UpdateOIDCAuthRequest(ctx, st.poolID, id, func(r *userpool.OIDCAuthRequest) error {
		if r.CodeHash != nil {
			return errors.New("auth request already has a code")
		}
		r.CodeHash = st.codeHash(code)
		r.ExpiresAt = st.now().Add(CodeTTL)
		return nil
	})
	return err
}

// AuthRequestByCode finds the request of a code without spending it (it is
// spent when the tokens are created, after the client and PKCE checks). A
// code that was exchanged before revokes what that exchange issued.
func (st *storage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	if code == "" || len(code) > 512 {
		return nil, zoidc.ErrInvalidGrant()
	}
	row, err := st.s.d.Store.GetOIDCAuthRequestByCode(ctx, st.poolID, st.codeHash(code))
	if errors.Is(err, userpool.ErrNotFound) {
		return nil, zoidc.ErrInvalidGrant().WithDescription("unknown or expired code")
	}
	if err != nil {
		return nil, err
	}
	if !row.CodeUsedAt.IsZero() {
		st.codeReplayed(ctx, row)
		return nil, zoidc.ErrInvalidGrant().WithDescription("code already used")
	}
	if !st.now().Before(row.ExpiresAt) {
		return nil, zoidc.ErrInvalidGrant().WithDescription("unknown or expired code")
	}
	a, err := loadAuthRequest(row)
	if err != nil {
		return nil, err
	}
	if !a.data.Done {
		return nil, zoidc.ErrInvalidGrant()
	}
	return a, nil
}

// codeReplayed revokes the grant a replayed code's first exchange created
// (RFC 6749 §4.1.2).
func (st *storage) codeReplayed(ctx context.Context, row *userpool.OIDCAuthRequest) {
	if row.GrantID == "" {
		return
	}
	if _, err := st.s.d.Store.RevokeOIDCGrant(ctx, st.poolID, row.GrantID, st.now()); err != nil {
		st.s.d.Log.ErrorContext(ctx, "oidc: revoke the grant of a replayed code", slog.Any("error", err))
		return
	}
	st.s.d.Log.WarnContext(ctx, "oidc: authorization code replayed; its tokens are revoked",
		slog.String("pool_id", st.poolID), slog.String("client_id", row.ClientID))
}

// DeleteAuthRequest deletes a request that never got a code; one with a
// code stays (spent) until the purge, so that a replay is recognised.
func (st *storage) DeleteAuthRequest(ctx context.Context, id string) error {
	row, err := st.s.d.Store.GetOIDCAuthRequest(ctx, st.poolID, id, time.Time{})
	if errors.Is(err, userpool.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if row.CodeHash != nil {
		return nil
	}
	return st.s.d.Store.DeleteOIDCAuthRequest(ctx, st.poolID, id)
}

// --- tokens ---

// CreateAccessToken creates the grant of a code exchange or of a client
// credentials request; the access token's id names it.
func (st *storage) CreateAccessToken(ctx context.Context, req op.TokenRequest) (string, time.Time, error) {
	g, exp, err := st.newGrant(ctx, req, false)
	if err != nil {
		return "", time.Time{}, err
	}
	return tokenID(g.ID), exp, nil
}

// CreateAccessAndRefreshTokens creates the grant of a code exchange with
// offline_access (refresh token number 0), or rotates a refresh token:
// number n+1 replaces n, by compare-and-swap, so of two concurrent
// refreshes with one token only one gets a new one.
func (st *storage) CreateAccessAndRefreshTokens(ctx context.Context, req op.TokenRequest, current string) (string, string, time.Time, error) {
	if rr, ok := req.(*refreshRequest); ok {
		a, err := st.app(ctx, rr.grant.ClientID)
		if err != nil {
			return "", "", time.Time{}, zoidc.ErrInvalidGrant()
		}
		now := st.now()
		// A refresh may narrow the scopes (RFC 6749 §6): the new access
		// token, and the family from then on, carry only those.
		var narrowed []string
		if !slices.Equal(rr.scopes, rr.grant.Scopes) {
			narrowed = rr.scopes
		}
		ok, err := st.s.d.Store.AdvanceOIDCRefresh(ctx, st.poolID, rr.grant.ID, rr.seq, now, now.Add(a.RefreshTokenTTL), narrowed)
		if err != nil {
			return "", "", time.Time{}, err
		}
		if !ok {
			return "", "", time.Time{}, zoidc.ErrInvalidGrant().WithDescription("refresh token already used")
		}
		st.extendSession(ctx, rr.grant.SessionID, now)
		return tokenID(rr.grant.ID), st.mintRefresh(rr.grant.ID, rr.seq+1), now.Add(a.AccessTokenTTL), nil
	}
	g, exp, err := st.newGrant(ctx, req, true)
	if err != nil {
		return "", "", time.Time{}, err
	}
	return tokenID(g.ID), st.mintRefresh(g.ID, 0), exp, nil
}

// extendSession keeps the authpool session a refreshed grant is bound to
// alive for the pool's token lifetime from now (a refresh is activity).
func (st *storage) extendSession(ctx context.Context, sessionID string, now time.Time) {
	pool, err := st.s.d.Store.GetPool(ctx, st.poolID)
	if err != nil {
		return
	}
	sess, err := st.s.d.Store.GetSession(ctx, sessionID)
	if err != nil || !sess.ExpiresAt.Before(now.Add(pool.Settings.TokenTTL)) {
		return
	}
	_, _ = st.s.d.Store.ExtendSession(ctx, sessionID, now, now.Add(pool.Settings.TokenTTL))
}

func (st *storage) newGrant(ctx context.Context, req op.TokenRequest, refresh bool) (*userpool.OIDCGrant, time.Time, error) {
	now := st.now()
	g := &userpool.OIDCGrant{ID: newID(), PoolID: st.poolID, CreatedAt: now}
	var a *userpool.App
	var err error
	switch r := req.(type) {
	case *authRequest:
		if a, err = st.app(ctx, r.GetClientID()); err != nil {
			return nil, time.Time{}, zoidc.ErrInvalidGrant()
		}
		// The code is spent here, once the client and its PKCE verifier
		// were checked: of two concurrent exchanges one wins.
		if _, err := st.s.d.Store.ClaimOIDCCode(ctx, st.poolID, r.row.CodeHash, now); err != nil {
			if errors.Is(err, userpool.ErrCodeUsed) || errors.Is(err, userpool.ErrNotFound) {
				return nil, time.Time{}, zoidc.ErrInvalidGrant().WithDescription("code already used or expired")
			}
			return nil, time.Time{}, err
		}
		if err := st.sessionAlive(ctx, r.data.SessionID, r.data.UserID, now); err != nil {
			return nil, time.Time{}, zoidc.ErrInvalidGrant().WithDescription("the sign-in session has ended")
		}
		if !a.FirstParty {
			// A consent withdrawn after the code was issued (and before it
			// is exchanged) takes the code's worth with it.
			c, err := st.s.d.Store.GetOIDCConsent(ctx, st.poolID, r.data.UserID, a.ID)
			if err != nil && !errors.Is(err, userpool.ErrNotFound) {
				return nil, time.Time{}, err
			}
			if c == nil || err != nil || slices.ContainsFunc(r.data.Scopes, func(sc string) bool { return !slices.Contains(c.Scopes, sc) }) {
				return nil, time.Time{}, zoidc.ErrInvalidGrant().WithDescription("the user's consent to this application was withdrawn")
			}
		}
		g.ClientID, g.UserID, g.SessionID = a.ID, r.data.UserID, r.data.SessionID
		g.Scopes, g.AMR, g.AuthTime = r.data.Scopes, r.data.AMR, r.data.AuthTime
	case *ccRequest:
		if a, err = st.app(ctx, r.clientID); err != nil {
			return nil, time.Time{}, zoidc.ErrInvalidClient()
		}
		g.ClientID, g.Scopes = a.ID, r.scopes
	default:
		return nil, time.Time{}, zoidc.ErrUnsupportedGrantType()
	}
	exp := now.Add(a.AccessTokenTTL)
	g.ExpiresAt = exp
	if refresh {
		g.ExpiresAt = now.Add(max(a.RefreshTokenTTL, a.AccessTokenTTL))
	}
	if err := st.s.d.Store.CreateOIDCGrant(ctx, g); err != nil {
		return nil, time.Time{}, err
	}
	if r, ok := req.(*authRequest); ok {
		if _, err := st.s.d.Store.UpdateOIDCAuthRequest(ctx, st.poolID, r.row.ID, func(row *userpool.OIDCAuthRequest) error {
			row.GrantID = g.ID
			return nil
		}); err != nil {
			return nil, time.Time{}, err
		}
	}
	return g, exp, nil
}

// TokenRequestByRefreshToken reads a refresh token. One the server did not
// mint is unknown; one of a revoked or expired grant is refused; one whose
// number is older than the grant's current one was rotated already: it is
// being replayed, so the grant and its authpool session are revoked (reuse
// detection).
func (st *storage) TokenRequestByRefreshToken(ctx context.Context, tok string) (op.RefreshTokenRequest, error) {
	grantID, seq, ok := st.parseRefresh(tok)
	if !ok {
		return nil, zoidc.ErrInvalidGrant()
	}
	g, err := st.s.d.Store.GetOIDCGrant(ctx, st.poolID, grantID)
	if errors.Is(err, userpool.ErrNotFound) {
		return nil, zoidc.ErrInvalidGrant()
	}
	if err != nil {
		return nil, err
	}
	now := st.now()
	if !g.RevokedAt.IsZero() || !now.Before(g.ExpiresAt) || seq > g.RefreshSeq {
		return nil, zoidc.ErrInvalidGrant()
	}
	if seq < g.RefreshSeq {
		st.refreshReused(ctx, g)
		return nil, zoidc.ErrInvalidGrant().WithDescription("refresh token reused: the grant is revoked")
	}
	if err := st.sessionAlive(ctx, g.SessionID, g.UserID, now); err != nil {
		return nil, zoidc.ErrInvalidGrant().WithDescription("the sign-in session has ended")
	}
	return &refreshRequest{grant: g, seq: seq, scopes: g.Scopes}, nil
}

func (st *storage) refreshReused(ctx context.Context, g *userpool.OIDCGrant) {
	now := st.now()
	if _, err := st.s.d.Store.RevokeOIDCGrant(ctx, st.poolID, g.ID, now); err != nil {
		st.s.d.Log.ErrorContext(ctx, "oidc: revoke a reused refresh token's grant", slog.Any("error", err))
	}
	if g.SessionID != "" {
		err := st.s.d.Store.RevokeSession(ctx, g.SessionID, now, st.audit(g.UserID, "oidc.refresh_token.reuse", map[string]string{"app": g.ClientID, "grant": g.ID}))
		if err != nil && !errors.Is(err, userpool.ErrSessionNotFound) {
			st.s.d.Log.ErrorContext(ctx, "oidc: revoke the session of a reused refresh token", slog.Any("error", err))
		}
	}
	st.s.d.Log.WarnContext(ctx, "oidc: refresh token reused; its grant and session are revoked",
		slog.String("pool_id", st.poolID), slog.String("client_id", g.ClientID), slog.String("user_id", g.UserID))
}

// sessionAlive checks that the authpool session behind a grant is alive
// and its user exists and is not blocked.
func (st *storage) sessionAlive(ctx context.Context, sessionID, userID string, now time.Time) error {
	sess, err := st.s.d.Store.GetSession(ctx, sessionID)
	if err != nil {
		return err
	}
	if !sess.Alive(now) || sess.UserID != userID || sess.PoolID != st.poolID {
		return errors.New("session ended")
	}
	u, err := st.s.d.Store.GetUser(ctx, st.poolID, userID)
	if err != nil {
		return err
	}
	if u.Blocked {
		return errors.New("user blocked")
	}
	return nil
}

// activeGrant is the grant of an access token id when the token is active:
// the grant is not revoked or expired and, for a user's token, its session
// is alive and the user not blocked; for a client's, the app still exists.
func (st *storage) activeGrant(ctx context.Context, tokenID string) (*userpool.OIDCGrant, error) {
	id := grantOf(tokenID)
	if id == "" || len(id) > 64 {
		return nil, errors.New("inactive")
	}
	g, err := st.s.d.Store.GetOIDCGrant(ctx, st.poolID, id)
	if err != nil {
		return nil, err
	}
	now := st.now()
	if !g.RevokedAt.IsZero() || !now.Before(g.ExpiresAt) {
		return nil, errors.New("inactive")
	}
	if g.UserID == "" {
		if _, err := st.app(ctx, g.ClientID); err != nil {
			return nil, err
		}
		return g, nil
	}
	if err := st.sessionAlive(ctx, g.SessionID, g.UserID, now); err != nil {
		return nil, err
	}
	return g, nil
}

func (st *storage) TerminateSession(ctx context.Context, userID, clientID string) error { return nil }

// TerminateSessionFromRequest ends the browser's session (the cookie's)
// and the session named by the id_token_hint's sid, then answers the
// validated redirect.
func (st *storage) TerminateSessionFromRequest(ctx context.Context, req *op.EndSessionRequest) (string, error) {
	now := st.now()
	if r := requestFrom(ctx); r != nil {
		st.s.endBrowserSession(ctx, r, st.poolID)
	}
	if req.IDTokenHintClaims != nil {
		if sid, _ := req.IDTokenHintClaims.Claims["sid"].(string); sid != "" && len(sid) <= 64 {
			if sess, err := st.s.d.Store.GetSession(ctx, sid); err == nil && sess.PoolID == st.poolID && sess.UserID == req.UserID {
				err := st.s.d.Store.RevokeSession(ctx, sid, now, st.audit(sess.UserID, "oidc.logout", map[string]string{"app": req.ClientID}))
				if err != nil && !errors.Is(err, userpool.ErrSessionNotFound) {
					return "", err
				}
			}
		}
	}
	return req.RedirectURI, nil
}

// RevokeToken revokes the grant of an access token (by its id) or of a
// refresh token, when it belongs to the client asking. Unknown tokens are
// no error (RFC 7009 §2.2).
func (st *storage) RevokeToken(ctx context.Context, tokenOrID, userID, clientID string) *zoidc.Error {
	grantID := grantOf(tokenOrID)
	if strings.HasPrefix(tokenOrID, refreshPrefix) {
		id, _, ok := st.parseRefresh(tokenOrID)
		if !ok {
			return nil
		}
		grantID = id
	}
	g, err := st.s.d.Store.GetOIDCGrant(ctx, st.poolID, grantID)
	if err != nil {
		return nil
	}
	if g.ClientID != clientID {
		return zoidc.ErrInvalidClient().WithDescription("the token belongs to another client")
	}
	if _, err := st.s.d.Store.RevokeOIDCGrant(ctx, st.poolID, g.ID, st.now()); err != nil {
		return zoidc.ErrServerError()
	}
	return nil
}

func (st *storage) GetRefreshTokenInfo(ctx context.Context, clientID, tok string) (string, string, error) {
	grantID, _, ok := st.parseRefresh(tok)
	if !ok {
		return "", "", op.ErrInvalidRefreshToken
	}
	g, err := st.s.d.Store.GetOIDCGrant(ctx, st.poolID, grantID)
	if err != nil {
		return "", "", op.ErrInvalidRefreshToken
	}
	return g.UserID, tok, nil
}

// --- keys ---

type signingKey struct {
	id  string
	key any
}

func (k *signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k *signingKey) Key() any                                    { return k.key }
func (k *signingKey) ID() string                                  { return k.id }

// SigningKey is the current key of the shared set, recorded as signing a
// token that lives up to longestToken from now.
func (st *storage) SigningKey(ctx context.Context) (op.SigningKey, error) {
	kid, key, err := st.s.d.Tokens.SigningKeyFor(ctx, st.now().Add(longestToken))
	if err != nil {
		return nil, err
	}
	return &signingKey{id: kid, key: key}, nil
}

func (st *storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}

type publicKey struct{ k jose.JSONWebKey }

func (p *publicKey) ID() string                         { return p.k.KeyID }
func (p *publicKey) Algorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (p *publicKey) Use() string                        { return "sig" }
func (p *publicKey) Key() any                           { return p.k.Key }

// KeySet is the published keys (the JWKS of the native API).
func (st *storage) KeySet(ctx context.Context) ([]op.Key, error) {
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(st.s.d.Tokens.JWKS(ctx), &set); err != nil {
		return nil, fmt.Errorf("oidc: jwks: %w", err)
	}
	keys := make([]op.Key, 0, len(set.Keys))
	for _, k := range set.Keys {
		keys = append(keys, &publicKey{k: k})
	}
	return keys, nil
}

// --- claims ---

func (st *storage) SetUserinfoFromScopes(context.Context, *zoidc.UserInfo, string, string, []string) error {
	return nil // deprecated by op; SetUserinfoFromRequest does it
}

// SetUserinfoFromRequest fills the ID token's claims: the profile claims
// by scope (when no access token is issued; otherwise they are at the
// userinfo endpoint), and sid, the authpool session.
func (st *storage) SetUserinfoFromRequest(ctx context.Context, info *zoidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	if err := st.fillUserinfo(ctx, info, req.GetSubject(), scopes); err != nil {
		return err
	}
	if r, ok := req.(interface{ sessionID() string }); ok && r.sessionID() != "" {
		info.AppendClaims("sid", r.sessionID())
	}
	return nil
}

func (st *storage) fillUserinfo(ctx context.Context, info *zoidc.UserInfo, userID string, scopes []string) error {
	u, err := st.s.d.Store.GetUser(ctx, st.poolID, userID)
	if err != nil {
		return err
	}
	info.Subject = u.ID
	for _, sc := range scopes {
		switch sc {
		case zoidc.ScopeProfile:
			p := u.Profile
			info.UserInfoProfile = zoidc.UserInfoProfile{
				Name: p.Name, GivenName: p.GivenName, FamilyName: p.FamilyName, MiddleName: p.MiddleName,
				Nickname: p.Nickname, Profile: p.Profile, Picture: p.Photo, Website: p.Website,
				Gender: oidcGender(p.Gender), Birthdate: p.Birthdate, Zoneinfo: p.Zoneinfo,
				PreferredUsername: firstNonEmpty(p.PreferredUsername, p.Username),
				UpdatedAt:         zoidc.FromTime(u.UpdatedAt),
			}
			if p.Locale != "" {
				info.Locale = zoidc.NewLocale(language.Make(p.Locale))
			}
		case zoidc.ScopeEmail:
			info.UserInfoEmail = zoidc.UserInfoEmail{Email: u.Email, EmailVerified: zoidc.Bool(u.EmailVerified)}
		case zoidc.ScopePhone:
			info.UserInfoPhone = zoidc.UserInfoPhone{PhoneNumber: u.Phone, PhoneNumberVerified: zoidc.Bool(u.PhoneVerified)}
		case zoidc.ScopeAddress:
			p := u.Profile
			if p.Address != "" || p.StreetAddress != "" || p.Locality != "" || p.Region != "" || p.PostalCode != "" || p.Country != "" {
				info.Address = &zoidc.UserInfoAddress{
					Formatted: p.Address, StreetAddress: p.StreetAddress, Locality: firstNonEmpty(p.Locality, p.City),
					Region: firstNonEmpty(p.Region, p.Province), PostalCode: p.PostalCode, Country: p.Country,
				}
			}
		}
	}
	return nil
}

// oidcGender is the OIDC gender claim (OIDC Core 5.1: "female" or
// "male") of authpool's M/F/U; unknown is left out.
func oidcGender(g string) zoidc.Gender {
	switch g {
	case "F":
		return "female"
	case "M":
		return "male"
	}
	return ""
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// SetUserinfoFromToken answers the userinfo endpoint for an active token.
func (st *storage) SetUserinfoFromToken(ctx context.Context, info *zoidc.UserInfo, tokenID, subject, origin string) error {
	g, err := st.activeGrant(ctx, tokenID)
	if err != nil {
		return zoidc.ErrAccessDenied().WithDescription("the token is not active")
	}
	if g.UserID == "" || g.UserID != subject {
		return zoidc.ErrAccessDenied().WithDescription("the token is not a user's")
	}
	return st.fillUserinfo(ctx, info, g.UserID, g.Scopes)
}

// SetIntrospectionFromToken answers introspection for an active token.
func (st *storage) SetIntrospectionFromToken(ctx context.Context, resp *zoidc.IntrospectionResponse, tokenID, subject, clientID string) error {
	g, err := st.activeGrant(ctx, tokenID)
	if err != nil || (g.UserID != "" && g.UserID != subject) {
		return errors.New("inactive")
	}
	resp.Scope = g.Scopes
	resp.ClientID = g.ClientID
	resp.Subject = subject
	resp.Audience = []string{g.ClientID}
	resp.TokenType = "Bearer"
	if clientID != g.ClientID {
		// Another app of the pool (a resource server the token was sent
		// to) learns whether the token is active, for whom, for which app
		// and scopes — not the user's profile or the session id, which
		// only the app the user granted them to may read.
		return nil
	}
	if g.UserID != "" {
		var info zoidc.UserInfo
		if err := st.fillUserinfo(ctx, &info, g.UserID, g.Scopes); err == nil {
			resp.SetUserInfo(&info)
		}
		if g.SessionID != "" {
			resp.Claims = map[string]any{"sid": g.SessionID}
		}
	}
	return nil
}

func (st *storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

func (st *storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errors.New("private_key_jwt is not supported")
}

func (st *storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errors.New("the JWT profile grant is not supported")
}

func (st *storage) Health(ctx context.Context) error { return st.s.d.Store.Ping(ctx) }
