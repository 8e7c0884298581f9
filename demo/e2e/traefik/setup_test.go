package traefik

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"testing"
	"time"

	"github.com/storeaffinity/storeaffinity/demo/harness/fleet"
	"github.com/storeaffinity/storeaffinity/demo/harness/stack"
)

// app is the application name every scenario configures; its members are the child
// services "pos-<replica>".
const app = "pos"

// installPlugins installs the plugin sources for Traefik.
var installPlugins = stack.InstallPlugins

// env is one running setup: replicas behind a Traefik with the provider.
type env struct {
	ctx      context.Context
	replicas stack.Replicas
	traefik  *stack.Traefik
	client   *fleet.Client
	debug    bool
}

// setup describes an env. Zero values give 3 replicas with static discovery.
type setup struct {
	replicas int
	// started, when set, are the replicas to use instead of new ones.
	started stack.Replicas
	// members are the replicas the provider must report before the test begins
	// (default all of them).
	members  []string
	app      stack.App
	throttle time.Duration
	// debug serves /debug/pprof and /debug/vars on Traefik's API entry point.
	debug bool
}

// start runs replicas and a Traefik whose provider discovers them, and waits until
// Traefik's API shows the router, the weighted service and the middleware with every
// replica as a member. Everything stops when the test ends.
func start(t *testing.T, s setup) *env {
	t.Helper()
	if s.replicas == 0 {
		s.replicas = 3
	}
	replicas := s.started
	if replicas == nil {
		names := make([]string, s.replicas)
		for i := range names {
			names[i] = fmt.Sprintf("%s-%d", app, i)
		}
		var err error
		if replicas, err = stack.StartReplicas(names...); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(replicas.Close)
	if s.members == nil {
		s.members = replicas.Names()
	}
	if s.app.DNS == nil && s.app.Static == nil {
		s.app.Static = replicas.StaticServers()
	}
	e := &env{ctx: t.Context(), replicas: replicas, debug: s.debug}
	e.traefik = e.startTraefik(t, s.app, s.throttle)
	e.client = fleet.NewClient(e.traefik.WebURL)
	if err := e.traefik.API.WaitMembers(e.ctx, middlewareName, members(s.members)); err != nil {
		t.Fatalf("%v\n%s", err, e.traefik.Trouble())
	}
	return e
}

// startTraefik starts one more Traefik with the provider configured for a, and waits
// for its objects. It fails the test if Traefik's log shows a panic.
func (e *env) startTraefik(t *testing.T, a stack.App, throttle time.Duration) *stack.Traefik {
	t.Helper()
	traefik := stack.TraefikForTest(t, stack.TraefikOptions{
		Provider: stack.ProviderConfig(a),
		Throttle: throttle,
		Plugins:  installPlugins,
		Debug:    e.debug,
	})
	router, service, middleware := stack.Objects(app)
	for kind, name := range map[string]string{stack.Routers: router, stack.Services: service, stack.Middlewares: middleware} {
		if err := traefik.API.WaitEnabled(e.ctx, kind, name); err != nil {
			t.Fatalf("%v\n%s", err, traefik.Trouble())
		}
	}
	return traefik
}

var _, _, middlewareName = stack.Objects(app)

// members returns the member (child service) names of replicas.
func members(replicas []string) []string {
	out := make([]string, len(replicas))
	for i, r := range replicas {
		out[i] = member(r)
	}
	return out
}

// member returns the member name of a replica.
func member(replica string) string { return app + "-" + replica }

// stickyValue is Traefik's sticky cookie value for a child service name.
func stickyValue(member string) string {
	sum := sha256.Sum256([]byte(member))
	return hex.EncodeToString(sum[:])[:16]
}

// affinity returns the X-Store-Affinity value the middleware sets.
func affinity(store, member string) string {
	return "store=" + store + "; member=" + member
}

// stickyCookie is the weighted service's sticky cookie name.
const stickyCookie = app + "_affinity"

// waitConnected waits until every WebSocket of the fleet is open.
func waitConnected(t *testing.T, f *fleet.Fleet, timeout time.Duration) {
	t.Helper()
	err := stack.Poll(t.Context(), timeout, func(context.Context) error {
		for device, s := range f.Sockets {
			if _, ok := s.Current(); !ok {
				return fmt.Errorf("device %s not connected (%d failed dials)", device, s.Errors())
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// countByReplica counts values per replica, every replica present.
func (e *env) countByReplica(owner map[string]string) map[string]int {
	counts := map[string]int{}
	for _, name := range e.replicas.Names() {
		counts[name] = 0
	}
	for _, replica := range owner {
		counts[replica]++
	}
	return counts
}

// within reports whether every count is within fraction of the mean.
func within(counts map[string]int, fraction float64) bool {
	total := 0
	for _, c := range counts {
		total += c
	}
	mean := float64(total) / float64(len(counts))
	for _, c := range counts {
		if float64(c) < mean*(1-fraction) || float64(c) > mean*(1+fraction) {
			return false
		}
	}
	return true
}
