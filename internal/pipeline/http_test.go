package pipeline

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/authpool/authpool/api"
	"github.com/authpool/authpool/internal/userpool"
)

// TestSignVector checks Sign against the Standard Webhooks reference
// example, so receivers using any conforming library verify our requests.
func TestSignVector(t *testing.T) {
	t.Parallel()
	got, err := Sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek",
		time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`))
	if err != nil {
		t.Fatal(err)
	}
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
	for _, bad := range []string{"", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_not base64!", "whsec_c2hvcnQ="} {
		if _, err := Sign(bad, "id", time.Unix(0, 0), nil); err == nil {
			t.Errorf("Sign accepted secret %q", bad)
		}
	}
	if _, err := ParseSecret(NewSecret()); err != nil {
		t.Errorf("NewSecret: %v", err)
	}
}

// verify checks a Standard Webhooks signature the way a receiver would,
// independently of Sign.
func verify(t *testing.T, secret string, h http.Header, body []byte) {
	t.Helper()
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	ts, err := strconv.ParseInt(h.Get("webhook-timestamp"), 10, 64)
	if err != nil || time.Since(time.Unix(ts, 0)).Abs() > 5*time.Minute {
		t.Errorf("webhook-timestamp %q", h.Get("webhook-timestamp"))
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(h.Get("webhook-id") + "." + h.Get("webhook-timestamp") + "." + string(body)))
	want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	if !hmac.Equal([]byte(h.Get("webhook-signature")), []byte(want)) || !strings.HasPrefix(h.Get("webhook-id"), "msg_") {
		t.Errorf("bad signature %q for id %q", h.Get("webhook-signature"), h.Get("webhook-id"))
	}
}

func TestHTTPStage(t *testing.T) {
	t.Parallel()
	secret := NewSecret()
	var answer func(w http.ResponseWriter, req api.PipelineRequest)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		verify(t, secret, r.Header, body)
		var req api.PipelineRequest
		if err := json.Unmarshal(body, &req); err != nil {
			t.Errorf("request body: %v", err)
		}
		answer(w, req)
	}))
	defer srv.Close()
	r := NewRunner(nil, Config{}, nil, nil)
	p := &userpool.Pipeline{ID: "h", PoolID: "p1", Stage: userpool.StagePostAuthentication, Kind: userpool.PipelineHTTP,
		URL: srv.URL, Secret: secret, Enabled: true, Timeout: 300 * time.Millisecond}
	release := make(chan struct{})
	defer close(release)
	tests := []struct {
		name    string
		answer  func(w http.ResponseWriter, req api.PipelineRequest)
		outcome userpool.PipelineOutcome
		message string
		changes map[string]string
	}{
		{"empty body accepts", func(w http.ResponseWriter, req api.PipelineRequest) {
			if req.Stage != "post-authentication" || req.User.Email != "ann@example.com" || req.Context.Params["source"] != "mobile" ||
				req.Context.Request.IP != "192.0.2.7" || req.Context.Request.Method != "email" {
				t.Errorf("request: %+v", req)
			}
			w.WriteHeader(http.StatusNoContent)
		}, userpool.PipelineAccepted, "", nil},
		{"user changes", func(w http.ResponseWriter, req api.PipelineRequest) {
			u := map[string]any{"nickname": "ann", "email": "ignored@example.com", "company": req.User.Company}
			_ = json.NewEncoder(w).Encode(map[string]any{"user": u})
		}, userpool.PipelineAccepted, "", map[string]string{"nickname": "ann"}},
		{"error rejects", func(w http.ResponseWriter, req api.PipelineRequest) {
			_, _ = w.Write([]byte(`{"error": "domain not allowed"}`))
		}, userpool.PipelineRejected, "domain not allowed", nil},
		{"HTTP 500 fails", func(w http.ResponseWriter, req api.PipelineRequest) {
			w.WriteHeader(http.StatusInternalServerError)
		}, userpool.PipelineFailed, "HTTP 500", nil},
		{"redirect fails", func(w http.ResponseWriter, req api.PipelineRequest) {
			w.Header().Set("Location", "http://example.com/")
			w.WriteHeader(http.StatusFound)
		}, userpool.PipelineFailed, "HTTP 302", nil},
		{"garbage fails", func(w http.ResponseWriter, req api.PipelineRequest) {
			_, _ = w.Write([]byte(`<html>`))
		}, userpool.PipelineFailed, "not {", nil},
		{"slow fails at the time limit", func(w http.ResponseWriter, req api.PipelineRequest) {
			<-release
		}, userpool.PipelineFailed, "time limit", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			answer = tc.answer
			tr := r.Try(context.Background(), p, input())
			if tr.Outcome != tc.outcome || !strings.Contains(tr.Message, tc.message) {
				t.Fatalf("outcome %s %q, want %s containing %q", tr.Outcome, tr.Message, tc.outcome, tc.message)
			}
			if !equalMaps(tr.Changes, tc.changes) && (len(tr.Changes) != 0 || tc.changes != nil) {
				t.Errorf("changes %v, want %v", tr.Changes, tc.changes)
			}
		})
	}
	p.URL = "http://127.0.0.1:1/unreachable?token=secret-in-url"
	tr := r.Try(context.Background(), p, input())
	if tr.Outcome != userpool.PipelineFailed || strings.Contains(tr.Message, "secret-in-url") {
		t.Errorf("unreachable endpoint: %s %q", tr.Outcome, tr.Message)
	}
}

func TestHTTPHelper(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/allowed":
			body, _ := io.ReadAll(r.Body)
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]any{"method": r.Method, "key": r.Header.Get("X-Key"), "got": string(body)})
		case "/slow":
			<-release
		case "/redirect":
			http.Redirect(w, r, "http://192.0.2.1/elsewhere", http.StatusFound)
		}
	}))
	defer srv.Close()
	defer close(release) // before Close, which waits for the slow handler
	host := strings.TrimPrefix(srv.URL, "http://")
	r := NewRunner(nil, Config{}, nil, nil)
	run := func(src string) Trial {
		p := script(src)
		// Room for two requests under -race on a loaded machine; the slow
		// host's run below waits this long for its time limit.
		p.Timeout = 2 * time.Second
		p.AllowedHosts = []string{host}
		p.Env = map[string]string{"KEY": "k-1", "BASE": srv.URL}
		return r.Try(context.Background(), p, input())
	}

	tr := run(`async function pipe(user, context, callback) {
		const r = await http.post(env.BASE + "/allowed", {email: user.email}, {headers: {"X-Key": env.KEY}});
		const g = await http.get(env.BASE + "/allowed");
		user.company = [r.status, r.data.method, r.data.key, r.data.got, g.data.method].join("|");
		callback(null, user, context) }`)
	if tr.Outcome != userpool.PipelineAccepted || tr.Changes["company"] != `200|POST|k-1|{"email":"ann@example.com"}|GET` {
		t.Fatalf("allowed host: %s %q %v", tr.Outcome, tr.Message, tr.Changes)
	}
	tr = run(`async function pipe(user, context, callback) {
		try { await http.get("http://192.0.2.1/x") } catch (e) { return callback(new Error("refused: " + e.message)) }
		callback(null, user) }`)
	if tr.Outcome != userpool.PipelineRejected || !strings.Contains(tr.Message, "not in this pipeline's allowed hosts") {
		t.Fatalf("other host: %s %q", tr.Outcome, tr.Message)
	}
	tr = run(`async function pipe(user, context, callback) {
		const r = await http.get(env.BASE + "/redirect"); user.company = String(r.status); callback(null, user) }`)
	if tr.Outcome != userpool.PipelineAccepted || tr.Changes["company"] != "302" {
		t.Fatalf("redirect must not be followed: %s %q %v", tr.Outcome, tr.Message, tr.Changes)
	}
	tr = run(`async function pipe(user, context, callback) { await http.get(env.BASE + "/slow"); callback(null, user) }`)
	if tr.Outcome != userpool.PipelineFailed {
		t.Fatalf("slow host: %s %q", tr.Outcome, tr.Message)
	}
	// Without allowed hosts there is no http at all.
	tr = r.Try(context.Background(), script(`async function pipe(user, context, callback) { await http.get("`+srv.URL+`/allowed") }`), input())
	if tr.Outcome != userpool.PipelineFailed || !strings.Contains(tr.Message, "http is not defined") {
		t.Fatalf("no hosts: %s %q", tr.Outcome, tr.Message)
	}
}
