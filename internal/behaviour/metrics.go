package behaviour

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

// testMetrics sends stateful, stateless and refused requests through a middleware
// with its app label, holds live requests of two stores open, and reads the metrics
// from a middleware built with serveMetrics: each family counts what was sent.
func testMetrics(t *testing.T, build Builder) {
	// A name and an app label of this run's own: the plugin's counters outlive a run
	// (package-level state), and -count runs the case again in the same process.
	metricsRuns++
	app := "metricsapp" + strconv.Itoa(metricsRuns)
	members := []string{app + "-pos-0", app + "-pos-1", app + "-pos-2"}
	config := baseConfig()
	config["app"] = app
	config["members"] = []any{members[0], members[1], members[2]}
	config["rebalanceGrace"] = "100ms"
	release := make(chan struct{})
	next := http.HandlerFunc(func(rw http.ResponseWriter, req *http.Request) {
		if req.Header.Get("Upgrade") != "" {
			select {
			case <-release:
			case <-req.Context().Done():
			}
		}
	})
	h := mustBuild(t, build, next, config, app+"-affinity")
	stores := []string{"00123", "00456"}
	done := make(chan struct{})
	for _, store := range stores {
		req := httptest.NewRequest(http.MethodGet, prefix+"/"+store+"-001/ws", nil)
		req.Header.Set("Upgrade", "websocket")
		go func() { h.ServeHTTP(httptest.NewRecorder(), req); done <- struct{}{} }()
	}
	for i := 0; i < 3; i++ {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, prefix+"/00123-002/ticket", nil))
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/api/catalog", nil))
	}
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, prefix+"/bad!id/ticket", nil))
	metrics := mustBuild(t, build, http.NotFoundHandler(), map[string]any{"serveMetrics": true}, "metrics")
	deadline := time.Now().Add(5 * time.Second)
	text := ""
	for time.Now().Before(deadline) {
		rec := httptest.NewRecorder()
		metrics.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/storeaffinity/metrics", nil))
		text = rec.Body.String()
		if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/plain; version=0.0.4") {
			t.Fatalf("metrics answered %d %q", rec.Code, rec.Header().Get("Content-Type"))
		}
		if strings.Count(text, `storeaffinity_live_stores{app="`+app+`"`) == 3 && liveTotal(text, app, "storeaffinity_live_stores") == 2 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	owner := expectedMember(t, "", members, "00123")
	want := []string{
		`storeaffinity_members{app="` + app + `"} 3`,
		`storeaffinity_requests_total{app="` + app + `",member="` + strings.TrimPrefix(owner, app+"-") + `",kind="stateful"} `,
		`storeaffinity_requests_total{app="` + app + `",kind="refused"} 1`,
		`storeaffinity_refusals_total{app="` + app + `",reason="bad_device_id"} 1`,
		"# TYPE storeaffinity_live_sessions gauge",
		"# TYPE storeaffinity_requests_total counter",
		"# TYPE storeaffinity_moved_stores_total counter",
	}
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("metrics lack %q:\n%s", w, text)
		}
	}
	if got := liveTotal(text, app, "storeaffinity_live_sessions"); got != 2 {
		t.Errorf("%d live sessions, want 2:\n%s", got, text)
	}
	if got := liveTotal(text, app, "storeaffinity_requests_total"); got != 2+3+3+1 {
		t.Errorf("%d requests counted, want 9 (2 live and 3 stateful, 3 stateless, 1 refused):\n%s", got, text)
	}
	// The members change: the stores that leave their member end, and count as moved.
	config["members"] = []any{app + "-pos-3"}
	mustBuild(t, build, next, config, app+"-affinity")
	for i := 0; i < len(stores); i++ {
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("the live requests of moved stores did not end")
		}
	}
	close(release)
	rec := httptest.NewRecorder()
	metrics.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/storeaffinity/metrics", nil))
	if got := liveTotal(rec.Body.String(), app, "storeaffinity_moved_stores_total"); got != 2 {
		t.Errorf("%d moved stores, want 2:\n%s", got, rec.Body.String())
	}
	if !strings.Contains(rec.Body.String(), `storeaffinity_members{app="`+app+`"} 1`) {
		t.Errorf("the member count did not follow the change:\n%s", rec.Body.String())
	}
}

// metricsRuns counts the runs of testMetrics in this process.
var metricsRuns int

// liveTotal sums a family's samples of app.
func liveTotal(text, app, family string) int {
	total := 0
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, family+`{app="`+app+`"`) {
			var n int
			if i := strings.LastIndexByte(line, ' '); i > 0 {
				for _, c := range line[i+1:] {
					n = n*10 + int(c-'0')
				}
			}
			total += n
		}
	}
	return total
}
