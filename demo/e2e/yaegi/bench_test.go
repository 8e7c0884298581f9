package yaegi

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"syscall"
	"testing"

	"github.com/storeaffinity/storeaffinity"
	"github.com/storeaffinity/storeaffinity/demo/harness/stack"
	"github.com/storeaffinity/storeaffinity/demo/tools/probes"
	"github.com/storeaffinity/storeaffinity/internal/traefikconfig"
)

type builder func(ctx context.Context, next http.Handler, config map[string]any, name string) (http.Handler, error)

var noop = http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})

func compiledBuilder(ctx context.Context, next http.Handler, config map[string]any, name string) (http.Handler, error) {
	cfg := storeaffinity.CreateConfig()
	if err := traefikconfig.Decode(config, cfg); err != nil {
		return nil, err
	}
	return storeaffinity.New(ctx, next, cfg, name)
}

func benchConfig(members int) map[string]any {
	names := make([]any, members)
	for i := range names {
		names[i] = fmt.Sprintf("pos-pos-%d", i)
	}
	return map[string]any{
		"deviceAffinityPrefixes": []any{"/api/appId/pos/deviceId"},
		"members":                names,
		"stickyCookie":           "pos_affinity",
	}
}

// benchmarkRequests serves b.N requests through h; target(i) gives the i-th path.
func benchmarkRequests(b *testing.B, h http.Handler, target func(i int) string) {
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Cookie", "session=abc")
	paths := make([]string, 1000)
	for i := range paths {
		paths[i] = target(i)
	}
	rw := httptest.NewRecorder()
	for _, path := range paths { // warm up: every device's route is cached
		req.URL.Path = path
		h.ServeHTTP(rw, req)
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := cpuTime()
	for i := 0; i < b.N; i++ {
		req.URL.Path = paths[i%len(paths)]
		req.Header["Cookie"] = []string{"session=abc"}
		h.ServeHTTP(rw, req)
	}
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}

// cpuTime returns the process's user and system CPU time in nanoseconds: on a busy
// machine it is steadier than wall time.
func cpuTime() int64 {
	var usage syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &usage); err != nil {
		return 0
	}
	return usage.Utime.Nano() + usage.Stime.Nano()
}

// BenchmarkServeHTTP measures the per-request cost of the middleware, compiled and
// under Yaegi, for stateful requests of 1000 known devices (the steady state), for
// stateless requests, and for a device's first request (route not yet cached), at 3, 10
// and 100 members; the interpreted do-nothing middleware is the floor, and the least
// store-routing middleware (probes.LeastAlias) the lower bound of interpreted routing.
func BenchmarkServeHTTP(b *testing.B) {
	i := newInterpreter(b, stack.MiddlewareModule, "floor", probes.LeastAlias)
	runtimes := map[string]builder{"compiled": compiledBuilder, "yaegi": interpretedBuilder(b, i, "storeaffinity")}

	floor, err := interpretedBuilder(b, i, "floor")(context.Background(), noop, nil, "floor")
	if err != nil {
		b.Fatal(err)
	}
	b.Run("yaegi/floor", func(b *testing.B) {
		benchmarkRequests(b, floor, func(int) string { return "/api/catalog" })
	})
	least, err := interpretedBuilder(b, i, probes.LeastAlias)(context.Background(), noop, map[string]any{
		"members": []any{"pos-pos-0", "pos-pos-1", "pos-pos-2"}, "stickyCookie": "pos_affinity", "prefix": "/api/appId/pos/deviceId",
	}, "least")
	if err != nil {
		b.Fatal(err)
	}
	b.Run("yaegi/least/stateful", func(b *testing.B) {
		benchmarkRequests(b, least, func(i int) string { return fmt.Sprintf("/api/appId/pos/deviceId/%05d-001/sale", i) })
	})
	b.Run("yaegi/least/stateless", func(b *testing.B) {
		benchmarkRequests(b, least, func(int) string { return "/api/catalog" })
	})

	handlers := map[string]http.Handler{}
	for _, rt := range []string{"compiled", "yaegi"} {
		for _, members := range []int{3, 10, 100} {
			name := fmt.Sprintf("%s-%d", rt, members)
			h, err := runtimes[rt](context.Background(), noop, benchConfig(members), name)
			if err != nil {
				b.Fatal(err)
			}
			handlers[name] = h
			b.Run(fmt.Sprintf("%s/stateful/members=%d", rt, members), func(b *testing.B) {
				runtime.GC()
				benchmarkRequests(b, h, func(i int) string { return fmt.Sprintf("/api/appId/pos/deviceId/%05d-001/sale", i) })
			})
			b.Run(fmt.Sprintf("%s/stateless/members=%d", rt, members), func(b *testing.B) {
				runtime.GC()
				benchmarkRequests(b, h, func(int) string { return "/api/catalog" })
			})
		}
	}
	// First visits grow the route caches, so they run last.
	first := 0
	for _, rt := range []string{"compiled", "yaegi"} {
		for _, members := range []int{3, 10, 100} {
			h := handlers[fmt.Sprintf("%s-%d", rt, members)]
			b.Run(fmt.Sprintf("%s/first-visit/members=%d", rt, members), func(b *testing.B) {
				runtime.GC()
				req := httptest.NewRequest(http.MethodGet, "/", nil)
				rw := httptest.NewRecorder()
				b.ReportAllocs()
				start := cpuTime()
				for n := 0; n < b.N; n++ {
					first++
					req.URL.Path = fmt.Sprintf("/api/appId/pos/deviceId/s%d-001", first)
					h.ServeHTTP(rw, req)
				}
				b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
			})
		}
	}
}
