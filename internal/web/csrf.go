package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
)

// CSRF protects forms with a double-submit token: a random pre-session
// cookie, and in every form the HMAC of its value under the server secret.
// A form posted from another site has the cookie (SameSite=Lax does not
// send it on a cross-site POST anyway) but cannot know the HMAC; a token
// copied from another browser does not match this browser's cookie.
type CSRF struct {
	Secret []byte // at least 32 bytes, shared by replicas
	Secure bool   // the cookie's Secure attribute (public URL is https)
}

// CSRFCookie is the pre-session cookie's name.
const CSRFCookie = "authpool_csrf"

// CSRFField is the form field that carries the token.
const CSRFField = "csrf"

func (c CSRF) mac(v string) string {
	m := hmac.New(sha256.New, c.Secret)
	m.Write([]byte("csrf\x00" + v))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// Token returns the form token for this browser, setting its cookie when
// it has none (or a malformed one).
func (c CSRF) Token(w http.ResponseWriter, r *http.Request) string {
	if ck, err := r.Cookie(CSRFCookie); err == nil && validCookieValue(ck.Value) {
		return c.mac(ck.Value)
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	v := base64.RawURLEncoding.EncodeToString(b)
	http.SetCookie(w, &http.Cookie{Name: CSRFCookie, Value: v, Path: "/", HttpOnly: true, Secure: c.Secure, SameSite: http.SameSiteLaxMode})
	return c.mac(v)
}

func validCookieValue(v string) bool {
	b, err := base64.RawURLEncoding.DecodeString(v)
	return err == nil && len(b) == 32
}

// Check reports whether the posted form carries this browser's token.
// Call it after ParseForm.
func (c CSRF) Check(r *http.Request) bool {
	ck, err := r.Cookie(CSRFCookie)
	if err != nil || !validCookieValue(ck.Value) {
		return false
	}
	got := r.PostForm.Get(CSRFField)
	return subtle.ConstantTimeCompare([]byte(got), []byte(c.mac(ck.Value))) == 1
}
