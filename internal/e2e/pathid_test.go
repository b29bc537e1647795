package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/authpool/authpool/api"
	"github.com/authpool/authpool/client"
	"github.com/authpool/authpool/internal/httpapi"
)

// TestAdminRoutesRefuseBadPathIDs sends every admin route with an id in
// its path, each id in turn replaced by NUL or invalid UTF-8, to a real
// server on each store: every one answers 400 code 1001, never a 500
// (PostgreSQL cannot hold such text and used to fail the query). The other
// ids of the route name real things, so that the bad one is what is
// judged. The end-user route with a key in its path is in the table too.
func TestAdminRoutesRefuseBadPathIDs(t *testing.T) {
	bad := []string{"%00", "%ff%fe", "%C0%AF", "a%00b", "%1b"}
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, adminConfig(dbURL), nil)
		c := in.client()
		u := must[*client.User](t)(c.RegisterByEmail(ctx, "ids@example.com", "passw0rd!", nil, &client.RegisterOptions{ForceLogin: true}))
		good := map[string]string{
			"poolId": "default", "userId": u.ID, "key": "age", "sessionId": "s1",
			"pipelineId": "p1", "webhookId": "w1", "deliveryId": "d1", "appId": "a1", "keyId": "k1", "connectorId": "c1",
		}
		n := 0
		for _, rt := range httpapi.Routes() {
			method, path, _ := strings.Cut(rt, " ")
			admin := strings.HasPrefix(path, "/api/v1/admin/")
			if !admin && path != "/api/v1/users/me/udv/{key}" {
				continue
			}
			for name := range strings.SplitSeq(path, "/") {
				if !strings.HasPrefix(name, "{") {
					continue
				}
				name = strings.Trim(name, "{}")
				if _, ok := good[name]; !ok {
					t.Fatalf("%s: no good value for {%s}: add one to the table", rt, name)
				}
				for _, b := range bad {
					p := path
					for k, v := range good {
						if k == name {
							v = b
						}
						p = strings.ReplaceAll(p, "{"+k+"}", v)
					}
					n++
					t.Run(method+" "+strings.ReplaceAll(p, "/", "_"), func(t *testing.T) {
						req, err := http.NewRequest(method, in.URL+p, strings.NewReader(`{}`))
						if err != nil {
							t.Fatal(err)
						}
						req.Header.Set("Content-Type", "application/json")
						if admin {
							req.Header.Set("Authorization", "Bearer "+testAdminKey)
						} else {
							req.Header.Set("Authorization", "Bearer "+c.Token())
						}
						res, err := http.DefaultClient.Do(req)
						if err != nil {
							t.Fatal(err)
						}
						defer res.Body.Close()
						raw, _ := io.ReadAll(res.Body)
						var body api.ErrorBody
						if err := json.Unmarshal(raw, &body); err != nil {
							t.Fatalf("status %d, body %q", res.StatusCode, raw)
						}
						if res.StatusCode != http.StatusBadRequest || body.Code != api.CodeBadRequest {
							t.Fatalf("{%s}=%s: status %d code %d (%s: %s), want 400 code 1001", name, b, res.StatusCode, body.Code, body.Reason, body.Message)
						}
					})
				}
			}
		}
		if n < 100 {
			t.Fatalf("only %d cases: the route list was not walked", n)
		}
	})
}
