package yaegi

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/storeaffinity/storeaffinity/demo/harness/stack"
)

// allocBudget is the committed number of allocations per request under Yaegi v0.16.1,
// for requests shaped as a browser's (an Accept header, one client cookie). The
// interpreter allocates a frame for every call and a value for most statements, so
// allocations are the exact, repeatable part of the middleware's cost; a change that
// adds work on the request path shows here first. Lower a budget when you cut one.
var allocBudget = map[string]float64{
	"floor":       14,
	"stateful":    156, // 2 count the request for the metrics
	"stateless":   115, // 2 count the request for the metrics
	"first-visit": 441, // 2 count the request; 10 copy the device ID, so no cached route keeps the request line; 3 choose the response stamp; 36 look for the route before the last change; 5 keep the owner's score for a change
}

// TestAllocationsPerRequestStayInBudget measures allocations per request with
// testing.AllocsPerRun, which counts mallocs and so does not depend on the machine's
// speed or load, and holds each path to its budget.
func TestAllocationsPerRequestStayInBudget(t *testing.T) {
	i := newInterpreter(t, stack.MiddlewareModule, "floor")
	floor, err := interpretedBuilder(t, i, "floor")(context.Background(), noop, nil, "allocs-floor")
	if err != nil {
		t.Fatal(err)
	}
	h, err := interpretedBuilder(t, i, "storeaffinity")(context.Background(), noop, benchConfig(3), "allocs")
	if err != nil {
		t.Fatal(err)
	}
	paths := make([]string, 1000)
	for n := range paths {
		paths[n] = fmt.Sprintf("/api/appId/pos/deviceId/%05d-001/sale", n)
	}
	firstVisits := 0
	cases := []struct {
		name    string
		handler http.Handler
		path    func(n int) string
	}{
		{"floor", floor, func(int) string { return "/api/catalog" }},
		{"stateless", h, func(int) string { return "/api/catalog" }},
		{"stateful", h, func(n int) string { return paths[n%len(paths)] }},
		{"first-visit", h, func(int) string {
			firstVisits++
			return fmt.Sprintf("/api/appId/pos/deviceId/s%d-001", firstVisits)
		}},
	}
	for _, tc := range cases {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Header.Set("Accept", "application/json")
		cookie := []string{"session=abc"}
		rw := httptest.NewRecorder()
		for _, path := range paths { // warm up: the stateful devices' routes are cached
			req.URL.Path = path
			req.Header["Cookie"] = cookie
			tc.handler.ServeHTTP(rw, req)
		}
		pathOf := make([]string, 0, 201)
		for n := 0; n < 201; n++ { // AllocsPerRun runs once more than asked
			pathOf = append(pathOf, tc.path(n))
		}
		n := 0
		got := testing.AllocsPerRun(200, func() {
			req.URL.Path = pathOf[n]
			n++
			req.Header["Cookie"] = cookie
			tc.handler.ServeHTTP(rw, req)
		})
		t.Logf("%s: %.0f allocations per request (budget %.0f)", tc.name, got, allocBudget[tc.name])
		if got > allocBudget[tc.name] {
			t.Errorf("%s: %.0f allocations per request, over the budget of %.0f", tc.name, got, allocBudget[tc.name])
		}
	}
}

// TestLongRequestsCostAConstant holds requests of a megabyte, shaped to make an
// interpreted loop run once per segment or parameter, to a constant number of
// allocations under Yaegi: the long work stays in compiled calls, or is bounded.
func TestLongRequestsCostAConstant(t *testing.T) {
	const budget = 3000
	i := newInterpreter(t, stack.MiddlewareModule)
	config := benchConfig(3)
	config["deviceIdQuery"] = "device_id"
	h, err := interpretedBuilder(t, i, "storeaffinity")(context.Background(), noop, config, "allocs-long")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct{ name, target string }{
		{"an encoded path of 500,000 segments", "/x%2F" + strings.Repeat("/a", 500000)},
		{"an encoded path of 250,000 segments with ';' parameters", "/x%2F" + strings.Repeat("/a;b", 250000)},
		{"a query of 999 names like the device-ID name's", "/api/catalog?" + manyNames(998) + "device_id=00123-001"},
		{"a query past the bound of parameters", "/api/catalog?device_id=00123-001" + strings.Repeat("&", 100000)},
	}
	for _, tc := range cases {
		req := httptest.NewRequest(http.MethodGet, tc.target, nil)
		rw := httptest.NewRecorder()
		started := time.Now()
		got := testing.AllocsPerRun(2, func() {
			r := req.Clone(context.Background())
			h.ServeHTTP(rw, r)
		})
		t.Logf("%s: %.0f allocations, %v a request", tc.name, got, time.Since(started)/3)
		if got > budget {
			t.Errorf("%s: %.0f allocations per request under Yaegi, over the constant %d", tc.name, got, budget)
		}
	}
}

// manyNames returns n distinct query parameters whose names start as device_id's do.
func manyNames(n int) string {
	var b strings.Builder
	for k := 0; k < n; k++ {
		fmt.Fprintf(&b, "device.x%d=1&", k)
	}
	return b.String()
}

// carryRuns counts the runs of TestUnmovedRoutesSurviveAChange in this process.
var carryRuns int

// TestUnmovedRoutesSurviveAChange: after a change of members, the first request of a
// device whose store did not move takes over its route instead of computing it again
// (514 allocations at 100 members without it, 311 with it).
func TestUnmovedRoutesSurviveAChange(t *testing.T) {
	const budget = 340
	carryRuns++ // a name of this run's own: the plugin's state outlives a run (-count)
	name := fmt.Sprintf("allocs-carry-%d", carryRuns)
	i := newInterpreter(t, stack.MiddlewareModule)
	build := interpretedBuilder(t, i, "storeaffinity")
	config := benchConfig(100)
	before, err := build(context.Background(), noop, config, name)
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	rw := httptest.NewRecorder()
	var paths []string
	for n := 0; n < 300; n++ {
		paths = append(paths, fmt.Sprintf("/api/appId/pos/deviceId/c%05d-001/sale", n))
		req.URL.Path = paths[n]
		before.ServeHTTP(rw, req)
	}
	config["members"] = append(config["members"].([]any), "pos-pos-100")
	after, err := build(context.Background(), noop, config, name)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	got := testing.AllocsPerRun(200, func() {
		req.URL.Path = paths[n]
		n++
		delete(req.Header, "Cookie")
		after.ServeHTTP(rw, req)
	})
	t.Logf("first request of a device after 100 -> 101 members: %.0f allocations", got)
	if got > budget {
		t.Errorf("first request of a device after a change: %.0f allocations, over %d: the routes of unmoved stores were not carried over", got, budget)
	}
}
