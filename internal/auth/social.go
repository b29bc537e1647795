package auth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"maps"
	"strings"
	"time"

	"github.com/authpool/authpool/internal/connector"
	"github.com/authpool/authpool/internal/userpool"
)

// Social sign-in (issue 15, docs/SOCIAL.md). A sign-in goes:
//
//  1. SocialAuthorize: the connector must be enabled and the redirect URI
//     one of the pool's apps' (or the sign-in belongs to a hosted OIDC
//     authorization request); a state (random, single use) holds the
//     upstream's nonce and PKCE verifier, the target and a hash of a
//     random browser binding the transport sets as a cookie. Only the
//     keyed hash of the state is the row's key; its data is sealed.
//  2. SocialCallback: the state is taken (once) and must match the
//     browser's binding; the upstream's code is redeemed and its answer
//     verified (internal/connector); the identity names a user, or a new
//     user is created, or the existing account with that email is linked
//     only when the upstream verified the email and the pool allows it;
//     otherwise the answer is 2803 with a link token. The login is the
//     same process as every login (completeLoginVia: MFA gate, pipelines
//     with context.connector, session, user.login webhook, audit, count).
//  3. For the native API the outcome (a token, or the coded error such as
//     1635 with its MFA token) is sealed under a one-time code that the
//     browser carries back to the app's redirect URI; the app exchanges
//     it (SocialExchange) for the answer, so no token travels in a URL.

// Lifetimes of the social states.
const (
	socialStateTTL  = 10 * time.Minute
	socialResultTTL = time.Minute
	socialLinkTTL   = 15 * time.Minute
	// maxSocialValue bounds what is hashed of a client's state or code.
	maxSocialValue = 128
	// MaxAppState bounds the app's own state, echoed to its redirect URI.
	MaxAppState = 512
	// methodSocial is the login method of a social sign-in.
	methodSocial = "social"
)

// Audit events of identities.
const (
	auditIdentityLink   = "identity.link"
	auditIdentityUnlink = "identity.unlink"
)

var (
	errSocialState = userpool.Errorf(userpool.CodeSocialState, "social_state_invalid",
		"this sign-in is unknown, expired, already used or was started in another browser: start again")
	errConnectorDisabled = userpool.Errorf(userpool.CodeConnectorDisabled, "connector_disabled", "this sign-in option does not exist or is disabled")
	errSocialRedirect    = userpool.Errorf(userpool.CodeInvalidArgument, "invalid_redirect_uri", "redirect_uri must be one of the pool's registered app redirect URIs")
	errIdentityLast      = userpool.Errorf(userpool.CodeLastLoginMethod, "last_login_method",
		"this identity is the account's only way to sign in: set a password or link another identity first")
)

// SocialTarget is where a sign-in ends: an app's redirect URI (native
// API) with the app's own state, or a hosted authorization request.
type SocialTarget struct {
	RedirectURI   string
	AppState      string
	AuthRequestID string
	// CodeChallenge is the app's own PKCE challenge (S256) for the
	// one-time code: when given, only the holder of its verifier can
	// exchange the code (RFC 7636), so a code another process on a native
	// app's loopback port catches is worthless.
	CodeChallenge string
}

// SocialStart is the upstream URL to send the browser to, and the binding
// the transport keeps in the browser (a cookie) until the callback.
type SocialStart struct {
	URL     string
	Binding string
	// Tag names the binding cookie of this sign-in (SocialTag of its
	// state), so that sign-ins in two tabs do not overwrite each other's.
	Tag string
	TTL time.Duration
	// CrossSitePost: the upstream posts its answer back (Apple's
	// form_post), a cross-site POST that carries no SameSite=Lax cookie,
	// so the binding cookie must be SameSite=None (and Secure).
	CrossSitePost bool
}

// The binding cookie: its name is SocialCookiePrefix + the sign-in's Tag,
// its path SocialCookiePath (it reaches only the social routes).
const (
	SocialCookiePrefix = "authpool_social_"
	SocialCookiePath   = "/api/v1/social/"
)

// SocialTag is the short public name of a state, for the binding cookie.
func SocialTag(state string) string {
	h := sha256.Sum256([]byte(state))
	return hex.EncodeToString(h[:8])
}

// statePool reads the pool a state was issued for: the state sent
// upstream is base64url(pool id) "." random, so the one callback URL
// serves every pool.
func statePool(state string) (string, bool) {
	enc, _, ok := strings.Cut(state, ".")
	if !ok {
		return "", false
	}
	b, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil || !plausibleID(string(b)) {
		return "", false
	}
	return string(b), true
}

// SocialOutcome is the end of a callback whose state was valid: where the
// browser goes next, and (native API) the one-time code that carries the
// answer there. Result or Err is the login's own answer.
type SocialOutcome struct {
	PoolID    string
	Target    SocialTarget
	Connector string
	Code      string
	Result    *Result
	Err       error
}

// authorizeData is the sealed data of an "authorize" state.
type authorizeData struct {
	Connector   string `json:"c"`
	Nonce       string `json:"n"`
	Verifier    string `json:"v"`
	RedirectURI string `json:"r,omitempty"`
	AppState    string `json:"s,omitempty"`
	AuthRequest string `json:"a,omitempty"`
	Binding     string `json:"b"`
	// AppID and RequireMFA are the starting request's (Meta): the login
	// at the callback keeps them, so an authorization request whose
	// acr_values asked for MFA gets its second factor here too.
	AppID      string `json:"p,omitempty"`
	RequireMFA bool   `json:"m,omitempty"`
	// Challenge is the app's PKCE challenge for the one-time code.
	Challenge string `json:"k,omitempty"`
}

// resultData is the sealed answer of a "result" state.
type resultData struct {
	RedirectURI string         `json:"r"`
	Challenge   string         `json:"k,omitempty"`
	Token       string         `json:"t,omitempty"`
	Issued      time.Time      `json:"i,omitzero"`
	Expires     time.Time      `json:"e,omitzero"`
	UserID      string         `json:"u,omitempty"`
	Newly       bool           `json:"n,omitempty"`
	Code        int            `json:"code,omitempty"`
	Reason      string         `json:"reason,omitempty"`
	Message     string         `json:"message,omitempty"`
	Data        map[string]any `json:"data,omitempty"`
}

// linkData is the sealed data of a "link" state.
type linkData struct {
	Connector string `json:"c"`
	Subject   string `json:"s"`
	Claims    string `json:"d"`
	UserID    string `json:"u"`
}

// socialID is the key of a state: a keyed hash of the value only the
// browser or app holds, per kind.
func (s *Service) socialID(kind, v string) []byte {
	m := hmac.New(sha256.New, s.cfg.SocialKey)
	m.Write([]byte(kind))
	m.Write([]byte{0})
	m.Write([]byte(v))
	return m.Sum(nil)
}

func (s *Service) sealState(id []byte, v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, userpool.Internal(err)
	}
	return s.cfg.SocialSealer.Seal(hex.EncodeToString(id), b), nil
}

func (s *Service) openState(st *userpool.SocialState, v any) error {
	b, err := s.cfg.SocialSealer.Open(hex.EncodeToString(st.ID), st.Data)
	if err != nil {
		return userpool.Internal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return userpool.Internal(err)
	}
	return nil
}

// SealConnectorSecret seals a connector's client secret under the
// server's social key, bound to the connector (pool and id).
func (s *Service) SealConnectorSecret(poolID, id, secret string) []byte {
	return s.cfg.SocialSealer.Seal("connector\x00"+poolID+"\x00"+id, []byte(secret))
}

func (s *Service) openConnectorSecret(c *userpool.Connector) (string, error) {
	if len(c.SealedSecret) == 0 {
		return "", nil
	}
	b, err := s.cfg.SocialSealer.Open("connector\x00"+c.PoolID+"\x00"+c.ID, c.SealedSecret)
	if err != nil {
		return "", userpool.Internal(err)
	}
	return string(b), nil
}

// EnabledConnectors lists the pool's enabled connectors (the hosted
// sign-in page's buttons).
func (s *Service) EnabledConnectors(ctx context.Context, m Meta) ([]*userpool.Connector, error) {
	pid, err := s.poolID(ctx, m)
	if err != nil {
		return nil, err
	}
	all, err := s.store.ListConnectors(ctx, pid)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, c := range all {
		if c.Enabled && s.cfg.Connectors != nil {
			out = append(out, c)
		}
	}
	return out, nil
}

// upstream is the pool's enabled connector, ready to use.
func (s *Service) upstream(ctx context.Context, poolID, id string) (*userpool.Connector, connector.Upstream, error) {
	if !userpool.ValidConnectorID(id) || s.cfg.Connectors == nil {
		return nil, nil, errConnectorDisabled
	}
	c, err := s.store.GetConnector(ctx, poolID, id)
	if errors.Is(err, userpool.ErrConnectorNotFound) || err == nil && !c.Enabled {
		return nil, nil, errConnectorDisabled
	}
	if err != nil {
		return nil, nil, err
	}
	secret, err := s.openConnectorSecret(c)
	if err != nil {
		return nil, nil, err
	}
	up, err := s.cfg.Connectors.Upstream(c, secret, s.cfg.SocialCallbackURL)
	if err != nil {
		return nil, nil, userpool.Internal(err)
	}
	return c, up, nil
}

// SocialAuthorize starts a sign-in with the pool's connector id.
func (s *Service) SocialAuthorize(ctx context.Context, m Meta, id string, t SocialTarget) (*SocialStart, error) {
	if err := s.rateLimit(ctx, m, classLogin); err != nil {
		return nil, err
	}
	pool, err := s.pool(ctx, m)
	if err != nil {
		return nil, err
	}
	if len(t.AppState) > MaxAppState {
		return nil, userpool.Errorf(userpool.CodeInvalidArgument, "invalid_state", "state must be at most %d bytes", MaxAppState)
	}
	if t.AuthRequestID == "" {
		if err := s.checkAppRedirect(ctx, pool.ID, t.RedirectURI); err != nil {
			return nil, err
		}
	}
	if t.CodeChallenge != "" && !validChallenge(t.CodeChallenge) {
		return nil, userpool.Errorf(userpool.CodeInvalidArgument, "invalid_code_challenge",
			"code_challenge must be an S256 challenge: 43 characters of base64url")
	}
	c, up, err := s.upstream(ctx, pool.ID, id)
	if err != nil {
		return nil, err
	}
	req := connector.NewRequest()
	req.State = base64.RawURLEncoding.EncodeToString([]byte(pool.ID)) + "." + req.State
	binding := newMFAToken()
	u, err := up.AuthURL(ctx, req)
	if err != nil {
		return nil, err
	}
	sid := s.socialID(userpool.StateAuthorize, req.State)
	data, err := s.sealState(sid, authorizeData{
		Connector: id, Nonce: req.Nonce, Verifier: req.Verifier, RedirectURI: t.RedirectURI, AppState: t.AppState,
		AuthRequest: t.AuthRequestID, Binding: hex.EncodeToString(s.socialID("binding", binding)),
		AppID: m.AppID, RequireMFA: m.RequireMFA, Challenge: t.CodeChallenge,
	})
	if err != nil {
		return nil, err
	}
	if err := s.store.PutSocialState(ctx, &userpool.SocialState{
		ID: sid, PoolID: pool.ID, Kind: userpool.StateAuthorize, Data: data, ExpiresAt: s.now().UTC().Add(socialStateTTL),
	}); err != nil {
		return nil, err
	}
	return &SocialStart{URL: u, Binding: binding, Tag: SocialTag(req.State), TTL: socialStateTTL, CrossSitePost: c.Type == userpool.ConnectorApple}, nil
}

// checkAppRedirect: uri must be a registered redirect URI of one of the
// pool's apps.
func (s *Service) checkAppRedirect(ctx context.Context, poolID, uri string) error {
	if uri == "" || len(uri) > 2048 {
		return errSocialRedirect
	}
	apps, err := s.store.ListApps(ctx, poolID)
	if err != nil {
		return err
	}
	for _, a := range apps {
		if userpool.MatchRedirectURI(a, uri) {
			return nil
		}
	}
	return errSocialRedirect
}

// SocialCallbackInput is what the upstream sent back through the browser.
type SocialCallbackInput struct {
	State, Code, Error string
	// User is the "user" field Apple posts on the first authorization.
	User string
	// Binding is the browser's cookie set by SocialAuthorize.
	Binding string
}

// SocialCallback finishes a sign-in. An error without an outcome means
// the state was not valid (nothing may be redirected anywhere); with an
// outcome, the login's answer is in it (and, for the native API, sealed
// under its one-time code).
func (s *Service) SocialCallback(ctx context.Context, m Meta, in SocialCallbackInput) (*SocialOutcome, error) {
	// A callback without the browser's binding still spends its state:
	// a callback URL that leaked (with its upstream code) is dead at once.
	if in.State == "" || len(in.State) > 2*maxSocialValue+200 || len(in.Binding) > maxSocialValue {
		return nil, errSocialState
	}
	var ok bool
	if m.PoolID, ok = statePool(in.State); !ok {
		return nil, errSocialState
	}
	pool, err := s.pool(ctx, m)
	if errors.Is(err, userpool.ErrPoolNotFound) {
		return nil, errSocialState
	}
	if err != nil {
		return nil, err
	}
	st, err := s.store.TakeSocialState(ctx, pool.ID, s.socialID(userpool.StateAuthorize, in.State), userpool.StateAuthorize, s.now().UTC())
	if errors.Is(err, userpool.ErrNotFound) {
		return nil, errSocialState
	}
	if err != nil {
		return nil, err
	}
	var d authorizeData
	if err := s.openState(st, &d); err != nil {
		return nil, err
	}
	want, _ := hex.DecodeString(d.Binding)
	if subtle.ConstantTimeCompare(want, s.socialID("binding", in.Binding)) != 1 {
		return nil, errSocialState
	}
	if d.AppID != "" {
		m.AppID = d.AppID
	}
	m.RequireMFA = m.RequireMFA || d.RequireMFA
	out := &SocialOutcome{PoolID: pool.ID, Target: SocialTarget{RedirectURI: d.RedirectURI, AppState: d.AppState, AuthRequestID: d.AuthRequest}, Connector: d.Connector}
	out.Result, out.Err = s.socialLogin(ctx, m, pool, d, in)
	if out.Err != nil {
		if e := userpool.AsError(out.Err); e.Code == userpool.CodeInternal || e.Code == userpool.CodeSocialUpstream {
			s.log.LogAttrs(ctx, slog.LevelWarn, "social sign-in failed", slog.String("pool_id", pool.ID),
				slog.String("connector", d.Connector), slog.String("error", out.Err.Error()))
		}
	}
	if d.AuthRequest != "" {
		return out, nil
	}
	if out.Code, err = s.sealResult(ctx, pool.ID, d.RedirectURI, d.Challenge, out.Result, out.Err); err != nil {
		return nil, err
	}
	return out, nil
}

// sealResult stores the login's answer under a new one-time code.
func (s *Service) sealResult(ctx context.Context, poolID, redirect, challenge string, res *Result, lerr error) (string, error) {
	rd := resultData{RedirectURI: redirect, Challenge: challenge}
	if lerr != nil {
		e := userpool.AsError(lerr)
		rd.Code, rd.Reason, rd.Message, rd.Data = int(e.Code), e.Reason, e.Message, e.Data
	} else {
		rd.Token, rd.Issued, rd.Expires, rd.UserID, rd.Newly = res.Token, res.TokenIssued, res.TokenExpires, res.User.ID, res.NewlyCreated
	}
	code := newMFAToken()
	id := s.socialID(userpool.StateResult, code)
	data, err := s.sealState(id, rd)
	if err != nil {
		return "", err
	}
	if err := s.store.PutSocialState(ctx, &userpool.SocialState{
		ID: id, PoolID: poolID, Kind: userpool.StateResult, Data: data, ExpiresAt: s.now().UTC().Add(socialResultTTL),
	}); err != nil {
		return "", err
	}
	return code, nil
}

// SocialExchange gives the app the answer of a sign-in for its one-time
// code: the token (with the user), or the login's coded error. The code
// is spent by the first exchange and only works with the redirect URI it
// was sent to.
func (s *Service) SocialExchange(ctx context.Context, m Meta, code, redirectURI, verifier string) (*Result, error) {
	if code == "" || len(code) > maxSocialValue || len(verifier) > 128 {
		return nil, errSocialState
	}
	pid, err := s.poolID(ctx, m)
	if err != nil {
		return nil, err
	}
	st, err := s.store.TakeSocialState(ctx, pid, s.socialID(userpool.StateResult, code), userpool.StateResult, s.now().UTC())
	if errors.Is(err, userpool.ErrNotFound) {
		return nil, errSocialState
	}
	if err != nil {
		return nil, err
	}
	var d resultData
	if err := s.openState(st, &d); err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare([]byte(d.RedirectURI), []byte(redirectURI)) != 1 {
		return nil, errSocialState
	}
	// A code asked with a challenge needs its verifier; a verifier for a
	// code asked without one is refused too (no downgrade).
	if d.Challenge != "" || verifier != "" {
		sum := sha256.Sum256([]byte(verifier))
		got := base64.RawURLEncoding.EncodeToString(sum[:])
		if verifier == "" || subtle.ConstantTimeCompare([]byte(got), []byte(d.Challenge)) != 1 {
			return nil, errSocialState
		}
	}
	if d.Code != 0 {
		return nil, &userpool.Error{Code: userpool.Code(d.Code), Reason: d.Reason, Message: d.Message, Data: d.Data}
	}
	u, err := s.store.GetUser(ctx, pid, d.UserID)
	if err != nil {
		return nil, err
	}
	return s.withCustomData(ctx, &Result{User: u, Token: d.Token, TokenIssued: d.Issued, TokenExpires: d.Expires, NewlyCreated: d.Newly}, nil)
}

// socialLogin redeems the upstream's answer and logs the user in.
func (s *Service) socialLogin(ctx context.Context, m Meta, pool *userpool.Pool, d authorizeData, in SocialCallbackInput) (*Result, error) {
	c, up, err := s.upstream(ctx, pool.ID, d.Connector)
	if err != nil {
		return nil, err
	}
	if in.Error != "" {
		return nil, connector.Refused(errors.New("the upstream answered error=" + truncate(in.Error, 64)))
	}
	if in.Code == "" || len(in.Code) > 4096 {
		return nil, connector.Refused(errors.New("the upstream answered no code"))
	}
	p, err := up.Exchange(ctx, connector.Request{State: in.State, Nonce: d.Nonce, Verifier: d.Verifier, FormUser: in.User}, in.Code)
	if err != nil {
		return nil, err
	}
	params := maps.Clone(m.Context)
	m.flow = flow{method: methodSocial, identifier: c.ID, params: params, connector: c.ID}
	// The same protections as every login: pre-authentication pipelines
	// before any account is looked at.
	if err := s.preAuthentication(ctx, &m, pool.ID); err != nil {
		return nil, err
	}
	link := &userpool.IdentityLink{PoolID: pool.ID, Identity: userpool.Identity{Provider: c.ID, Subject: p.Subject, Data: claimsJSON(p), CreatedAt: s.now().UTC()}}
	for attempt := 0; ; attempt++ {
		u, err := s.store.GetUserByIdentity(ctx, pool.ID, c.ID, p.Subject)
		switch {
		case err == nil:
			link.UserID = u.ID
			return s.completeLoginVia(ctx, m, pool.Settings, u, false, methodSocial, "", link)
		case !isNotFound(err):
			return nil, err
		}
		res, err := s.socialFirst(ctx, m, pool, c, p, link)
		if errors.Is(err, userpool.ErrIdentityTaken) && attempt == 0 {
			continue // a concurrent first sign-in created the user: log in to it
		}
		return res, err
	}
}

// socialFirst is the first sign-in with an identity: the account with the
// same email is linked only when the upstream verified the email and the
// pool allows it; otherwise the user must sign in to it and confirm
// (2803 with a link token). With no such account, a new user.
func (s *Service) socialFirst(ctx context.Context, m Meta, pool *userpool.Pool, c *userpool.Connector, p *connector.Profile, link *userpool.IdentityLink) (*Result, error) {
	if p.Email != "" {
		existing, err := s.store.GetUserByEmail(ctx, pool.ID, p.Email)
		if err != nil && !isNotFound(err) {
			return nil, err
		}
		if existing != nil {
			// A concurrent first sign-in with this identity may have just
			// created this very account (user and identity commit together).
			if u, err := s.store.GetUserByIdentity(ctx, pool.ID, c.ID, p.Subject); err == nil {
				link.UserID = u.ID
				return s.completeLoginVia(ctx, m, pool.Settings, u, false, methodSocial, "", link)
			}
			// Both sides must have proven the address: an account whose
			// address was never verified may belong to someone who typed
			// another's address (pre-account hijacking), so its owner
			// signs in and confirms instead (or resets the password by
			// that address first).
			//
			// Nor when the account would have to enrol a second factor at
			// this sign-in: the identity's holder would then choose the
			// account's only factor (review), so its owner confirms.
			auto := p.EmailVerified && existing.EmailVerified && pool.Settings.SocialAutoLinkVerifiedEmail
			if auto {
				enrol, err := s.wouldEnrol(ctx, m, pool.Settings, existing)
				if err != nil {
					return nil, err
				}
				auto = !enrol
			}
			if auto {
				link.UserID = existing.ID
				return s.completeLoginVia(ctx, m, pool.Settings, existing, false, methodSocial, "", link,
					s.auditEvent(m, pool.ID, existing.ID, auditIdentityLink, map[string]string{"connector": c.ID, "by": "verified_email"}))
			}
			return nil, s.pendingLink(ctx, pool.ID, existing, link)
		}
	}
	u := &userpool.User{Profile: userpool.Profile{Name: p.Name, Nickname: p.Username, Photo: p.Picture}}
	if validateProfile(&u.Profile) != nil {
		u.Profile = userpool.Profile{} // the upstream's profile is a courtesy, never a reason to refuse
	}
	if p.EmailVerified {
		// Only a verified address becomes the account's: an unverified one
		// would let anyone claim another's address (kept in the identity).
		if email, _, err := newEmail(p.Email); err == nil {
			u.Email, u.EmailVerified = email, true
		}
	}
	var err error
	if _, err = s.preRegister(ctx, m, pool.ID, u, nil); err != nil {
		return nil, err
	}
	if err := s.createVia(ctx, pool.ID, m, u, methodSocial, nil, nil, link); err != nil {
		if errors.Is(err, userpool.ErrEmailTaken) {
			// An account took the address since we looked: a concurrent
			// first sign-in with this identity (then sign in to it: the
			// caller looks again), or another account (as above).
			if _, gerr := s.store.GetUserByIdentity(ctx, pool.ID, c.ID, p.Subject); gerr == nil {
				return nil, userpool.ErrIdentityTaken
			}
			if existing, gerr := s.store.GetUserByEmail(ctx, pool.ID, u.Email); gerr == nil {
				return nil, s.pendingLink(ctx, pool.ID, existing, link)
			}
		}
		return nil, err
	}
	s.log.LogAttrs(ctx, slogInfo, "user registered", attrUser(u)...)
	if u, err = s.postRegister(ctx, m, u); err != nil {
		return nil, err
	}
	link.UserID = u.ID
	return s.completeLoginVia(ctx, m, pool.Settings, u, true, methodSocial, "", link)
}

// wouldEnrol says whether a login of u must enrol a second factor before
// it completes (mfaGate's enrolment case).
func (s *Service) wouldEnrol(ctx context.Context, m Meta, set userpool.PoolSettings, u *userpool.User) (bool, error) {
	required, err := s.mfaRequired(ctx, m, set, u)
	if err != nil || !required {
		return false, err
	}
	kinds, err := s.usableFactors(ctx, u)
	if err != nil {
		return false, err
	}
	return len(kinds) == 0, nil
}

// pendingLink stores the identity waiting for the existing account's
// confirmation and returns 2803 with its token.
func (s *Service) pendingLink(ctx context.Context, poolID string, existing *userpool.User, link *userpool.IdentityLink) error {
	tok := newMFAToken()
	id := s.socialID(userpool.StateLink, tok)
	data, err := s.sealState(id, linkData{Connector: link.Identity.Provider, Subject: link.Identity.Subject, Claims: link.Identity.Data, UserID: existing.ID})
	if err != nil {
		return err
	}
	if err := s.store.PutSocialState(ctx, &userpool.SocialState{
		ID: id, PoolID: poolID, Kind: userpool.StateLink, Data: data, ExpiresAt: s.now().UTC().Add(socialLinkTTL),
	}); err != nil {
		return err
	}
	e := userpool.Errorf(userpool.CodeSocialLinkRequired, "social_link_required",
		"an account with this email already exists: sign in to it, then confirm the link with the link token")
	e.Data = map[string]any{"linkToken": tok, "connector": link.Identity.Provider, "expiresIn": int(socialLinkTTL / time.Second)}
	return e
}

// deferredLinks are the identities an MFA challenge's login would link
// (mfaGate), kept sealed until its second factor.
type deferredLinks struct {
	Links []linkData `json:"l"`
	By    string     `json:"b,omitempty"` // the audit's "by" of an automatic link
}

func (s *Service) deferredLinkID(challengeID string) []byte {
	return s.socialID(userpool.StateMFALink, challengeID)
}

// deferLinks keeps links for the challenge c (nothing when there are
// none). It lives as long as the challenge.
func (s *Service) deferLinks(ctx context.Context, c *userpool.MFAChallenge, d deferredLinks) error {
	if len(d.Links) == 0 {
		return nil
	}
	id := s.deferredLinkID(c.ID)
	data, err := s.sealState(id, d)
	if err != nil {
		return err
	}
	return s.store.PutSocialState(ctx, &userpool.SocialState{ID: id, PoolID: c.PoolID, Kind: userpool.StateMFALink, Data: data, ExpiresAt: c.ExpiresAt})
}

// takeDeferredLinks returns the records that link what the completed
// challenge in m kept waiting (none for most logins), and its audit, with
// the state taken (nil when none), for the caller to put back should the
// login be refused after all.
func (s *Service) takeDeferredLinks(ctx context.Context, m Meta, u *userpool.User) ([]userpool.Record, *userpool.SocialState, error) {
	c := m.mfa.challenge
	st, err := s.store.TakeSocialState(ctx, c.PoolID, s.deferredLinkID(c.ID), userpool.StateMFALink, s.now().UTC())
	if errors.Is(err, userpool.ErrNotFound) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	var d deferredLinks
	if err := s.openState(st, &d); err != nil {
		return nil, nil, err
	}
	var recs []userpool.Record
	for _, l := range d.Links {
		if subtle.ConstantTimeCompare([]byte(l.UserID), []byte(u.ID)) != 1 {
			continue // sealed for another account: never
		}
		recs = append(recs, &userpool.IdentityLink{PoolID: u.PoolID, UserID: u.ID, Identity: userpool.Identity{Provider: l.Connector, Subject: l.Subject, Data: l.Claims, CreatedAt: s.now().UTC()}})
		if d.By != "" {
			recs = append(recs, s.auditEvent(m, u.PoolID, u.ID, auditIdentityLink, map[string]string{"connector": l.Connector, "by": d.By}))
		}
	}
	return recs, st, nil
}

// ConfirmSocialLink links the identity a 2803 answer left waiting to the
// signed-in user, who must be the account it was waiting for.
func (s *Service) ConfirmSocialLink(ctx context.Context, m Meta, tok, linkToken string) ([]*userpool.Identity, error) {
	_, u, err := s.Authenticate(ctx, m, tok)
	if err != nil {
		return nil, err
	}
	if linkToken == "" || len(linkToken) > maxSocialValue {
		return nil, errSocialState
	}
	st, err := s.store.TakeSocialState(ctx, u.PoolID, s.socialID(userpool.StateLink, linkToken), userpool.StateLink, s.now().UTC())
	if errors.Is(err, userpool.ErrNotFound) {
		return nil, errSocialState
	}
	if err != nil {
		return nil, err
	}
	var d linkData
	if err := s.openState(st, &d); err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare([]byte(d.UserID), []byte(u.ID)) != 1 {
		return nil, errSocialState
	}
	link := &userpool.IdentityLink{PoolID: u.PoolID, UserID: u.ID, Identity: userpool.Identity{Provider: d.Connector, Subject: d.Subject, Data: d.Claims, CreatedAt: s.now().UTC()}}
	if _, err := s.store.UpdateUser(ctx, u.PoolID, u.ID, func(x *userpool.User) error {
		if x.Blocked {
			return errBlocked
		}
		return nil
	}, link, s.auditEvent(m, u.PoolID, u.ID, auditIdentityLink, map[string]string{"connector": d.Connector, "by": "confirmation"})); err != nil {
		return nil, err
	}
	return s.store.ListIdentities(ctx, u.PoolID, u.ID)
}

// ListIdentities lists the signed-in user's upstream identities.
func (s *Service) ListIdentities(ctx context.Context, m Meta, tok string) ([]*userpool.Identity, error) {
	_, u, err := s.Authenticate(ctx, m, tok)
	if err != nil {
		return nil, err
	}
	return s.store.ListIdentities(ctx, u.PoolID, u.ID)
}

// UnlinkIdentity removes one of the signed-in user's identities, never the
// account's last way to sign in (a password, a phone that logs in by
// code, or another identity).
func (s *Service) UnlinkIdentity(ctx context.Context, m Meta, tok, provider, subject string) error {
	_, u, err := s.Authenticate(ctx, m, tok)
	if err != nil {
		return err
	}
	err = s.store.DeleteIdentity(ctx, u.PoolID, u.ID, provider, subject, func(x *userpool.User, others int) error {
		if others == 0 && !x.HasPassword() && x.Phone == "" {
			return errIdentityLast
		}
		return nil
	}, s.auditEvent(m, u.PoolID, u.ID, auditIdentityUnlink, map[string]string{"connector": provider}))
	if errors.Is(err, userpool.ErrNotFound) {
		return userpool.Errorf(userpool.CodeNotFound, "identity_not_found", "the account has no such identity")
	}
	return err
}

// IdentitiesOf lists a user's identities (the admin API's user).
func (s *Service) IdentitiesOf(ctx context.Context, poolID, userID string) ([]*userpool.Identity, error) {
	return s.store.ListIdentities(ctx, poolID, userID)
}

// claimsJSON is the identity's kept claims as JSON text, bounded.
func claimsJSON(p *connector.Profile) string {
	b, err := json.Marshal(p.Claims)
	if err != nil || len(b) > userpool.MaxIdentityDataBytes {
		return "{}"
	}
	return string(b)
}

// validChallenge reports whether c has the shape of an S256 challenge: the
// base64url (unpadded) of a SHA-256, 43 characters.
func validChallenge(c string) bool {
	if len(c) != 43 {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(c)
	return err == nil
}
