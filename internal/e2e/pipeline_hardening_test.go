package e2e

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authpool/authpool/api"
	"github.com/authpool/authpool/client"
	"github.com/authpool/authpool/internal/config"
)

// TestPipelineUnreadableRefusalFailsClosed is the attack of issue 10: a
// pre-register pipeline refuses with the client's own context value, and
// the client sends one whose message cannot be read. The registration is
// refused and no user is created.
func TestPipelineUnreadableRefusalFailsClosed(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, adminConfig(dbURL), nil)
		addPipeline(t, in, client.StagePreRegister, 0, `
			async function pipe(user, context, callback) {
				callback(context.params.reason || "registration closed")
			}`)
		c := in.client()
		for _, reason := range []any{
			map[string]any{"toString": 1},
			map[string]any{"toString": 1, "valueOf": 1},
			map[string]any{"message": map[string]any{"toString": 1}},
			nil,
		} {
			_, err := c.RegisterByEmail(ctx, "mallory@example.com", "passw0rd!", nil,
				&client.RegisterOptions{Context: map[string]any{"reason": reason}})
			ce := wantCode(t, err, api.CodePipelineRejected)
			if ce.Message == "" {
				t.Fatalf("reason %v: a refusal without a message", reason)
			}
		}
		list := must[*client.UserList](t)(in.admin().ListUsers(ctx, "default", client.ListUsersOptions{}))
		if list.Total != 0 {
			t.Fatalf("refused registrations created %d users", list.Total)
		}
	})
}

// TestPipelinePoolsShareSlots: pool "busy" fills every script slot it may
// with pipelines that busy-wait, and the default pool's logins, whose
// pipeline is quick, still succeed (TestBusyAnswers503 pins the answer of a
// run that gets no slot).
func TestPipelinePoolsShareSlots(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		cfg := adminConfig(dbURL)
		cfg.PipelineConcurrency = 2 // one slot per pool
		in := start(t, cfg, nil)
		var started atomic.Int32
		signal := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { started.Add(1) }))
		defer signal.Close()
		must[*client.Pool](t)(in.admin().CreatePool(ctx, client.CreatePoolRequest{ID: "busy", Name: "Busy"}))
		order := 0
		must[*client.Pipeline](t)(in.admin().CreatePipeline(ctx, "busy", client.CreatePipelineRequest{
			Stage: client.StagePostAuthentication, Order: &order, Name: "slow", Kind: client.PipelineKindScript, Timeout: "3s",
			AllowedHosts: []string{strings.TrimPrefix(signal.URL, "http://")}, Env: map[string]string{"SIGNAL": signal.URL},
			Script: `async function pipe(user, context, callback) {
				await http.get(env.SIGNAL)
				var t = Date.now(); while (Date.now() - t < 2500) {}
				callback(null, user, context)
			}`}))
		addPipeline(t, in, client.StagePostAuthentication, 0, `
			async function pipe(user, context, callback) { callback(null, user, context) }`,
			func(p *client.CreatePipelineRequest) { p.Timeout = "1500ms" })

		busy := client.NewAuthenticationClient(client.Options{AppHost: in.URL, UserPoolID: "busy", Timeout: 30 * time.Second})
		for i := range 4 {
			must[*client.User](t)(busy.RegisterByEmail(ctx, fmt.Sprintf("b%d@example.com", i), "passw0rd!", nil, nil))
		}
		must[*client.User](t)(in.client().RegisterByEmail(ctx, "ann@example.com", "passw0rd!", nil, nil))

		errs := make([]error, 4)
		var wg sync.WaitGroup
		for i := range 4 {
			wg.Go(func() {
				_, errs[i] = busy.LoginByEmail(ctx, fmt.Sprintf("b%d@example.com", i), "passw0rd!", nil)
			})
		}
		for started.Load() == 0 {
			time.Sleep(5 * time.Millisecond)
		}
		time.Sleep(200 * time.Millisecond) // let the others reach their pipeline too
		for i := range 3 {
			if _, err := in.client().LoginByEmail(ctx, "ann@example.com", "passw0rd!", nil); err != nil {
				t.Fatalf("login %d of the default pool while pool busy is busy: %v", i, err)
			}
		}
		wg.Wait()
		// Pool busy's own logins: through, busy (503), or failed by their
		// own slow script after a late slot; nothing else.
		for i, err := range errs {
			var ce *client.Error
			switch {
			case err == nil:
			case errorAs(err, &ce) && ce.Code == api.CodeUnavailable && ce.HTTPStatus == http.StatusServiceUnavailable:
			case errorAs(err, &ce) && ce.Code == api.CodePipelineFailed:
			default:
				t.Errorf("login %d of pool busy: %v", i, err)
			}
		}
	})
}

// TestPipelineMemoryBomb: a script that allocates without end fails the
// login with 1021 within its limit and a grace, is logged, and the
// server's logins go on.
func TestPipelineMemoryBomb(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		cfg := adminConfig(dbURL)
		cfg.PipelineMemoryMiB = 64
		in := start(t, cfg, nil)
		bomb := addPipeline(t, in, client.StagePreAuthentication, 0, `
			async function pipe(user, context, callback) {
				if (context.request.identifier === "bomb@example.com") {
					var s = "x"; while (true) s = s + s
				}
				callback(null, user, context)
			}`, func(p *client.CreatePipelineRequest) { p.Timeout = "10s" })
		c := in.client()
		must[*client.User](t)(c.RegisterByEmail(ctx, "bomb@example.com", "passw0rd!", nil, nil))
		must[*client.User](t)(c.RegisterByEmail(ctx, "fine@example.com", "passw0rd!", nil, nil))
		start := time.Now()
		_, err := c.LoginByEmail(ctx, "bomb@example.com", "passw0rd!", nil)
		wantCode(t, err, api.CodePipelineFailed)
		if took := time.Since(start); took > 10*time.Second+30*time.Second {
			t.Fatalf("the bomb ran %v", took)
		}
		logs := pipelineLogs(t, in, bomb)
		if len(logs) != 1 || !strings.Contains(logs[0].Message, "memory limit of 64 MiB") {
			t.Fatalf("pipeline log: %+v", logs)
		}
		if _, err := c.LoginByEmail(ctx, "fine@example.com", "passw0rd!", nil); err != nil {
			t.Fatalf("login after the bomb: %v", err)
		}
	})
}

func errorAs(err error, ce **client.Error) bool { return errors.As(err, ce) }

// TestBusyAnswers503: a login whose pipeline gets no script slot within
// its time limit answers 503 with code 1008 and Retry-After, never 500.
// The slot is held by a run that the interrupt cannot stop, so it is held
// until the worker is killed, past the waiting login's limit.
func TestBusyAnswers503(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		cfg := adminConfig(dbURL)
		cfg.PipelineConcurrency, cfg.PipelinePoolConcurrency = 1, 1
		cfg.PipelineTimeout = config.Duration(2 * time.Second)
		in := start(t, cfg, nil)
		hogging := make(chan struct{})
		var once sync.Once
		signal := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { once.Do(func() { close(hogging) }) }))
		defer signal.Close()
		addPipeline(t, in, client.StagePreAuthentication, 0, `
			async function pipe(user, context, callback) {
				if (context.request.identifier === "hog@example.com") {
					await http.get(env.SIGNAL)
					;/^(a+)+(?=b)/.test("a".repeat(26) + "!") // seconds, not interruptible
				}
				callback(null, user, context)
			}`, func(p *client.CreatePipelineRequest) {
			p.AllowedHosts = []string{strings.TrimPrefix(signal.URL, "http://")}
			p.Env = map[string]string{"SIGNAL": signal.URL}
		})
		c := in.client()
		must[*client.User](t)(c.RegisterByEmail(ctx, "hog@example.com", "passw0rd!", nil, nil))
		must[*client.User](t)(c.RegisterByEmail(ctx, "ann@example.com", "passw0rd!", nil, nil))
		hog := make(chan error, 1)
		go func() {
			_, err := in.client().LoginByEmail(ctx, "hog@example.com", "passw0rd!", nil)
			hog <- err
		}()
		<-hogging
		_, err := c.LoginByEmail(ctx, "ann@example.com", "passw0rd!", nil)
		ce := wantCode(t, err, api.CodeUnavailable)
		if ce.HTTPStatus != http.StatusServiceUnavailable || ce.Reason != "pipelines_busy" {
			t.Fatalf("busy answer: %+v", ce)
		}
		wantCode(t, <-hog, api.CodePipelineFailed)
		if _, err := c.LoginByEmail(ctx, "ann@example.com", "passw0rd!", nil); err != nil {
			t.Fatalf("login once the slot is free: %v", err)
		}
	})
}
