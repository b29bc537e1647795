package httpapi

import (
	"net/http"
	"strings"

	"github.com/authpool/authpool/internal/userpool"
)

// Refusals of an Authorization header that is there but is not "Bearer
// <credential>" ("Authorization: <token>", "Basic ..."). They keep the code
// and reason of a missing credential, which is what the server sees, and
// say what is wrong instead of "no token was given".
var (
	errBearerScheme = userpool.Errorf(userpool.CodeNotLoggedIn, "not_logged_in",
		"the Authorization header must use the Bearer scheme: Authorization: Bearer <token>")
	errAdminBearerScheme = userpool.Errorf(userpool.CodeAdminUnauthorized, "admin_key_required",
		"the Authorization header must use the Bearer scheme: Authorization: Bearer <admin key>")
)

// bearerScheme returns refusal when the request has an Authorization
// header whose scheme is not Bearer, and nil when it has none or a Bearer
// one. Only routes that read a bearer credential call it: a public route
// must keep working for a browser that sends Basic credentials of a proxy
// in front of the server.
func bearerScheme(r *http.Request, refusal error) error {
	h := strings.TrimSpace(r.Header.Get("Authorization"))
	if h == "" || Bearer(r) != "" {
		return nil
	}
	if scheme, _, _ := strings.Cut(h, " "); strings.EqualFold(scheme, "bearer") {
		return nil // "Bearer" with nothing after it: a missing token, said as such
	}
	return refusal
}

// BearerSchemeError is bearerScheme for the transports mounted beside the
// native API: the end-user refusal (code 2020) or nil.
func BearerSchemeError(r *http.Request) error { return bearerScheme(r, errBearerScheme) }
