package provider

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// healthServer answers its health path with 200 or 503.
type healthServer struct {
	*httptest.Server
	down atomic.Bool
}

func newHealthServer(t *testing.T) *healthServer {
	t.Helper()
	h := &healthServer{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" || h.down.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(h.Close)
	return h
}

func TestHealthCheckRemovesFailingMembersAndRestoresRecoveredOnes(t *testing.T) {
	a, b, c := newHealthServer(t), newHealthServer(t), newHealthServer(t)
	c.down.Store(true)
	inner := &staticSource{members: []member{{Name: "a", URL: a.URL}, {Name: "b", URL: b.URL}, {Name: "c", URL: c.URL}}}
	check := &HealthCheck{Path: "/healthz", Interval: "30ms", Timeout: "1s", Fails: 2, Passes: 2, PanicThreshold: "0"}
	h, err := newHealthSource("healthCheck", check, inner)
	if err != nil {
		t.Fatal(err)
	}
	log := &logBuffer{}
	// One assignment a statement: Yaegi v0.16.1 does not convert to an interface in a
	// multiple one.
	h.stdout = log
	h.app = "pos"
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	reports, report := memberReports()
	go h.run(ctx, report)
	expect := func(want string) {
		t.Helper()
		expectReport(t, reports, want, 3*time.Second)
	}
	expect("a,b") // c fails its first probe, so it never joins
	b.down.Store(true)
	start := time.Now()
	expect("a")
	if elapsed := time.Since(start); elapsed < 30*time.Millisecond {
		t.Errorf("b left after %v, before its second failed probe", elapsed)
	}
	b.down.Store(false)
	c.down.Store(false)
	expect("a,b,c")
	select {
	case got := <-reports:
		t.Fatalf("report %q without a change", got)
	case <-time.After(150 * time.Millisecond):
	}
	// One log line per change of members, with why.
	want := "storeaffinity provider: app pos: members +[] -[b] (health check); 1 members now\n" +
		"storeaffinity provider: app pos: members +[b c] -[] (health check); 3 members now\n"
	if got := log.String(); got != want {
		t.Errorf("log:\n%s\nwant:\n%s", got, want)
	}
}
