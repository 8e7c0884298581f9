package provider

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
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

func TestHealthCheckConfigErrorsNameTheKey(t *testing.T) {
	tests := []struct {
		check HealthCheck
		want  string
	}{
		{HealthCheck{Path: "healthz"}, "apps[0].healthCheck.path"},
		{HealthCheck{Interval: "often"}, "apps[0].healthCheck.interval"},
		{HealthCheck{Timeout: "-1s"}, "apps[0].healthCheck.timeout"},
		{HealthCheck{Fails: -1}, "apps[0].healthCheck.fails"},
		{HealthCheck{Passes: -2}, "apps[0].healthCheck.passes"},
		{HealthCheck{PanicThreshold: "half"}, "apps[0].healthCheck.panicThreshold"},
		{HealthCheck{PanicThreshold: "150%"}, "apps[0].healthCheck.panicThreshold"},
		{HealthCheck{PanicThreshold: "50"}, "apps[0].healthCheck.panicThreshold"},
		{HealthCheck{PanicThreshold: "-0.1"}, "apps[0].healthCheck.panicThreshold"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			check := tt.check
			cfg := CreateConfig()
			cfg.Apps = []App{{Name: "pos", Static: &StaticDiscovery{Servers: []string{"a=http://a"}}, HealthCheck: &check}}
			_, err := buildApps(cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestHealthCheckPanicThresholdKeepsEveryMemberWhenTooFewAreHealthy(t *testing.T) {
	tests := []struct {
		name      string
		threshold string
		down      []bool // a, b, c
		want      string
		panicking bool // every member stays, and a line says so
	}{
		{"all probes fail", "", []bool{true, true, true}, "a,b,c", true},
		{"1 of 3 healthy is below the default 50%", "", []bool{false, true, true}, "a,b,c", true},
		{"2 of 3 healthy", "", []bool{false, false, true}, "a,b", false},
		{"1 of 3 healthy is not below 0.3", "0.3", []bool{false, true, true}, "a", false},
		{"2 of 3 healthy is below 70%", "70%", []bool{false, false, true}, "a,b,c", true},
		{"threshold 0, all probes fail", "0", []bool{true, true, true}, "", false},
		{"threshold 0%, 1 of 3 healthy", "0%", []bool{false, true, true}, "a", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var members []member
			for i, name := range []string{"a", "b", "c"} {
				server := newHealthServer(t)
				server.down.Store(tt.down[i])
				members = append(members, member{Name: name, URL: server.URL})
			}
			check := &HealthCheck{Path: "/healthz", Interval: "1h", PanicThreshold: tt.threshold}
			h, err := newHealthSource("healthCheck", check, &staticSource{members: members})
			if err != nil {
				t.Fatal(err)
			}
			logs := &logBuffer{}
			h.stderr = logs
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			reports, report := memberReports()
			go h.run(ctx, report)
			expectReport(t, reports, tt.want, 3*time.Second)
			if logged := strings.Contains(logs.String(), "below panicThreshold"); logged != tt.panicking {
				t.Errorf("panic logged = %v, want %v (log %q)", logged, tt.panicking, logs.String())
			}
		})
	}
}
