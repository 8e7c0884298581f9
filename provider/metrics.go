package provider

import (
	"fmt"
	"strings"
)

// MetricsObject is the name of the router and of the middleware that serve the
// middleware's metrics.
const MetricsObject = "storeaffinity-metrics"

// Defaults of Metrics.
const (
	defaultMetricsEntryPoint = "traefik"
	defaultMetricsPath       = "/storeaffinity/metrics"
)

// checkMetrics fills the defaults of metrics and checks it; errors name the key.
func checkMetrics(metrics *Metrics) error {
	metrics.EntryPoint = strings.TrimSpace(metrics.EntryPoint)
	if metrics.EntryPoint == "" {
		metrics.EntryPoint = defaultMetricsEntryPoint
	}
	if !validName(metrics.EntryPoint) {
		return fmt.Errorf("metrics.entryPoint: %q has characters other than letters, digits, '-', '_' and '.'", metrics.EntryPoint)
	}
	metrics.Path = strings.TrimSpace(metrics.Path)
	if metrics.Path == "" {
		metrics.Path = defaultMetricsPath
	}
	if !strings.HasPrefix(metrics.Path, "/") || strings.ContainsAny(metrics.Path, "`\"?# ") {
		return fmt.Errorf("metrics.path: %q is not a path that starts with '/'", metrics.Path)
	}
	return nil
}

// addMetrics adds the router and the middleware that serve the metrics: a middleware
// of the plugin built with serveMetrics answers every request itself, so the router's
// service, Traefik's noop@internal, is never reached.
func addMetrics(h *httpConfig, middlewarePlugin string, metrics *Metrics) {
	if metrics == nil {
		return
	}
	h.Middlewares[MetricsObject] = &middlewareConfig{Plugin: map[string]*affinityConfig{middlewarePlugin: {ServeMetrics: true}}}
	h.Routers[MetricsObject] = &routerConfig{
		EntryPoints: []string{metrics.EntryPoint},
		Middlewares: []string{MetricsObject},
		Service:     "noop@internal",
		Rule:        "Path(`" + metrics.Path + "`)",
	}
}
