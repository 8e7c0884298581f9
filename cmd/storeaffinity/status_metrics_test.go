package main

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

// posMetrics is what the middleware serves for the app pos, with a decoy: the app cx
// has a member of the same name.
const posMetrics = `# HELP storeaffinity_members Members of the app's weighted service, as this Traefik replica routes by them.
# TYPE storeaffinity_members gauge
storeaffinity_members{app="pos"} 2
# HELP storeaffinity_live_sessions Live requests (WebSockets, STOMP sessions, SSE streams) that this Traefik replica holds open to the member.
# TYPE storeaffinity_live_sessions gauge
storeaffinity_live_sessions{app="cx",member="pos-0"} 99
storeaffinity_live_sessions{app="pos",member="pos-0"} 12
storeaffinity_live_sessions{app="pos",member="pos-1"} 7
# HELP storeaffinity_live_stores Stores with live requests that this Traefik replica holds open to the member.
# TYPE storeaffinity_live_stores gauge
storeaffinity_live_stores{app="cx",member="pos-0"} 98
storeaffinity_live_stores{app="pos",member="pos-0"} 3
storeaffinity_live_stores{app="pos",member="pos-1"} 2
# HELP storeaffinity_requests_total Requests through the affinity middleware: routed by store (stateful), round-robin (stateless), or refused.
# TYPE storeaffinity_requests_total counter
storeaffinity_requests_total{app="pos",member="pos-0",kind="stateful"} 40
storeaffinity_requests_total{app="pos",kind="refused"} 5
`

// fakeMetrics serves text at path on 127.0.0.1, and a 404 elsewhere; it returns the
// server's URL.
func fakeMetrics(t *testing.T, path, text string) string {
	t.Helper()
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != path {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		_, _ = w.Write([]byte(text))
	}))
	t.Cleanup(server.Close)
	return server.URL
}

// metricsRouterAnswers are the answers of Traefik's API with the provider's metrics
// router on the entry point metrics, at address, with the rule Path(path).
func metricsRouterAnswers(address, path string) map[string]any {
	return map[string]any{
		"/api/http/routers": []any{
			map[string]any{"name": "pos@plugin-storeaffinityprovider", "entryPoints": []string{"web"}, "rule": "PathPrefix(`/`)", "status": "enabled"},
			map[string]any{"name": "storeaffinity-metrics@plugin-storeaffinityprovider", "entryPoints": []string{"metrics"},
				"rule": "Path(`" + path + "`)", "service": "noop@internal", "status": "enabled"},
		},
		"/api/entrypoints": []any{
			map[string]any{"name": "web", "address": ":80"},
			map[string]any{"name": "metrics", "address": address},
		},
	}
}

// posMiddlewares is the middleware of the app pos, with its members pos-pos-0 and
// pos-pos-1, and their services.
func posMiddlewares() ([]any, map[string]any) {
	middleware := apiMiddlewareAnswer("pos-affinity@plugin-storeaffinityprovider", "enabled", "rendezvous", []string{"pos-pos-0", "pos-pos-1"})
	middleware["plugin"].(map[string]any)["storeaffinity"].(map[string]any)["app"] = "pos"
	return []any{middleware}, map[string]any{
		"pos-pos-0@plugin-storeaffinityprovider": apiServiceAnswer("http://10.0.0.5:8080", "UP"),
		"pos-pos-1@plugin-storeaffinityprovider": apiServiceAnswer("http://10.0.0.6:8080", "UP"),
	}
}

// liveColumns returns the last two fields of member's row in out: its live sessions
// and live stores.
func liveColumns(out, member string) string {
	for _, line := range strings.Split(out, "\n") {
		fields := strings.Fields(line)
		if len(fields) > 2 && fields[0] == member {
			return strings.Join(fields[len(fields)-2:], " ")
		}
	}
	return ""
}

// checkLiveColumns checks that each member's row shows its live sessions and stores.
func checkLiveColumns(t *testing.T, out string, want map[string]string) {
	t.Helper()
	for member, columns := range want {
		if got := liveColumns(out, member); got != columns {
			t.Errorf("%s: live sessions and stores %q, want %q:\n%s", member, got, columns, out)
		}
	}
}

// TestStatusShowsLiveSessionsPerMember: status finds the metrics through the
// provider's router and its entry point's address, on the host of --traefik, and
// shows each member's live sessions and live stores as this replica counts them.
func TestStatusShowsLiveSessionsPerMember(t *testing.T) {
	metrics := fakeMetrics(t, "/storeaffinity/metrics", posMetrics)
	port := metrics[strings.LastIndex(metrics, ":")+1:]
	for _, address := range []string{":" + port, "127.0.0.1:" + port, "0.0.0.0:" + port + "/tcp"} {
		t.Run(address, func(t *testing.T) {
			middlewares, services := posMiddlewares()
			base := fakeTraefikWith(t, middlewares, services, metricsRouterAnswers(address, "/storeaffinity/metrics"))
			out, err := run(t, "status", "--traefik="+base, "--stores=100")
			if err != nil {
				t.Fatalf("status: %v\n%s", err, out)
			}
			checkLiveColumns(t, out, map[string]string{"pos-pos-0": "12 3", "pos-pos-1": "7 2"})
			for _, want := range []string{"this Traefik replica's", metrics + "/storeaffinity/metrics", "LIVE SESSIONS", "LIVE STORES"} {
				if !strings.Contains(out, want) {
					t.Errorf("status lacks %q:\n%s", want, out)
				}
			}
		})
	}
}

// TestStatusWithoutMetricsSaysSo: without the provider's metrics router, status says
// that live sessions are not available and shows the rest as before.
func TestStatusWithoutMetricsSaysSo(t *testing.T) {
	middlewares, services := posMiddlewares()
	base := fakeTraefik(t, middlewares, services)
	out, err := run(t, "status", "--traefik="+base, "--stores=100")
	if err != nil {
		t.Fatalf("status: %v\n%s", err, out)
	}
	for _, want := range []string{
		"live sessions: not available (set the provider's metrics option)\n",
		"pos-affinity@plugin-storeaffinityprovider: 2 members (rendezvous)",
		"pos-pos-1  pos-pos-1@plugin-storeaffinityprovider  http://10.0.0.6:8080 UP",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "LIVE") {
		t.Errorf("status shows live columns without metrics:\n%s", out)
	}
}

// TestStatusMetricsFlagOverridesTheRouter: --metrics names the metrics' URL, whatever
// the provider's router says.
func TestStatusMetricsFlagOverridesTheRouter(t *testing.T) {
	routed := fakeMetrics(t, "/storeaffinity/metrics", strings.ReplaceAll(posMetrics, "} 12", "} 1000"))
	port := routed[strings.LastIndex(routed, ":")+1:]
	flagged := fakeMetrics(t, "/other", posMetrics)
	for name, extra := range map[string]map[string]any{
		"with a metrics router":    metricsRouterAnswers(":"+port, "/storeaffinity/metrics"),
		"without a metrics router": nil,
	} {
		t.Run(name, func(t *testing.T) {
			middlewares, services := posMiddlewares()
			base := fakeTraefikWith(t, middlewares, services, extra)
			out, err := run(t, "status", "--traefik="+base, "--metrics="+flagged+"/other", "--stores=100")
			if err != nil {
				t.Fatalf("status: %v\n%s", err, out)
			}
			checkLiveColumns(t, out, map[string]string{"pos-pos-0": "12 3", "pos-pos-1": "7 2"})
			if !strings.Contains(out, flagged+"/other") {
				t.Errorf("status does not name %s/other:\n%s", flagged, out)
			}
		})
	}
}

// TestStatusMetricsAnswerIsBoundedAndEscaped: a metrics answer larger than the bound
// is refused, and what the metrics or the router say is printed escaped; status still
// shows the members.
func TestStatusMetricsAnswerIsBoundedAndEscaped(t *testing.T) {
	const hostile = "\x1b[2J\r\u202e\n"
	tests := []struct {
		name string
		text string
		path string
		want string
	}{
		{"larger than the bound", posMetrics + "# " + strings.Repeat("x", 9<<20) + "\n", "/storeaffinity/metrics", "larger than 8 MiB"},
		{"a hostile sample", posMetrics + `storeaffinity_live_sessions{app="pos",member="pos-1` + hostile + `"} 7` + hostile + "\n", "/storeaffinity/metrics", "not available"},
		{"a hostile rule", posMetrics, "/storeaffinity/metrics" + hostile, "not available"},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			metrics := fakeMetrics(t, "/storeaffinity/metrics", test.text)
			port := metrics[strings.LastIndex(metrics, ":")+1:]
			middlewares, services := posMiddlewares()
			base := fakeTraefikWith(t, middlewares, services, metricsRouterAnswers(":"+port, test.path))
			out, err := run(t, "status", "--traefik="+base, "--stores=100")
			if err != nil {
				t.Fatalf("status: %v\n%s", err, out)
			}
			if !strings.Contains(out, test.want) || !strings.Contains(out, "pos-pos-1@plugin-storeaffinityprovider") {
				t.Errorf("status lacks %q or the members:\n%s", test.want, out)
			}
			for _, r := range out {
				if r != '\n' && !strconv.IsPrint(r) {
					t.Fatalf("status printed %U unescaped:\n%q", r, out)
				}
			}
		})
	}
}
