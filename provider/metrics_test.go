package provider

import (
	"strings"
	"testing"
)

// TestMetricsRouterServesOnTheNamedEntryPoint checks that metrics add one router on
// the entry point given (or traefik), whose middleware serves the metrics, and that no
// app's router carries it.
func TestMetricsRouterServesOnTheNamedEntryPoint(t *testing.T) {
	for _, tc := range []struct {
		metrics    Metrics
		entryPoint string
		rule       string
	}{
		{Metrics{}, "traefik", "Path(`/storeaffinity/metrics`)"},
		{Metrics{EntryPoint: "metrics", Path: "/m"}, "metrics", "Path(`/m`)"},
	} {
		cfg := &Config{MiddlewarePlugin: "storeaffinity", Metrics: &tc.metrics, Apps: []App{{
			Name: "pos", Static: &StaticDiscovery{Servers: []string{"pos-0=http://127.0.0.1:1"}},
			DeviceAffinityPrefixes: []string{"/api/appId/pos/deviceId"}, Router: &Router{Rule: "PathPrefix(`/`)", EntryPoints: []string{"web"}},
		}}}
		apps, err := buildApps(cfg)
		if err != nil {
			t.Fatal(err)
		}
		h := generate(cfg.MiddlewarePlugin, apps, map[string][]member{"pos": {{Name: "pos-0", URL: "http://127.0.0.1:1"}}}).HTTP
		addMetrics(h, cfg.MiddlewarePlugin, cfg.Metrics)
		router, middleware := h.Routers[MetricsObject], h.Middlewares[MetricsObject]
		if router == nil || middleware == nil || !middleware.Plugin["storeaffinity"].ServeMetrics {
			t.Fatalf("routers %v, middlewares %v: want the metrics router and its serveMetrics middleware", h.Routers, h.Middlewares)
		}
		if strings.Join(router.EntryPoints, ",") != tc.entryPoint || router.Rule != tc.rule || router.Service != "noop@internal" {
			t.Errorf("metrics router %+v, want entry point %s and rule %s", router, tc.entryPoint, tc.rule)
		}
		for name, r := range h.Routers {
			if name != MetricsObject && strings.Contains(strings.Join(r.Middlewares, ","), MetricsObject) {
				t.Errorf("app router %s carries the metrics middleware", name)
			}
		}
		if app := h.Middlewares[AffinityMiddleware("pos")].Plugin["storeaffinity"].App; app != "pos" {
			t.Errorf("the affinity middleware's app label is %q, want pos", app)
		}
	}
}

// TestMetricsConfigErrorsNameTheKey checks the metrics keys' errors.
func TestMetricsConfigErrorsNameTheKey(t *testing.T) {
	for _, tc := range []struct {
		metrics Metrics
		app     string
		want    string
	}{
		{Metrics{Path: "metrics"}, "pos", "metrics.path"},
		{Metrics{Path: "/a`) || PathPrefix(`/"}, "pos", "metrics.path"},
		{Metrics{EntryPoint: "web site"}, "pos", "metrics.entryPoint"},
		{Metrics{}, MetricsObject, "apps[0].name"},
	} {
		cfg := &Config{MiddlewarePlugin: "storeaffinity", Metrics: &tc.metrics, Apps: []App{{
			Name: tc.app, Static: &StaticDiscovery{Servers: []string{"pos-0=http://127.0.0.1:1"}},
		}}}
		if _, err := buildApps(cfg); err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want an error naming %s", tc.metrics, err, tc.want)
		}
	}
}
