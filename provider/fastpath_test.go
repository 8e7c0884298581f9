package provider

import (
	"bytes"
	"math"
	"regexp"
	"strings"
	"testing"
)

// splitApp is an app with a router and a device-ID prefix, header and STOMP path.
func splitApp(router Router, prefixes ...string) *appSpec {
	app := &App{Name: "pos", DeviceAffinityPrefixes: prefixes, DeviceIDHeader: "X-Device-Id", StompConnectPaths: []string{"/api/websocket"}}
	return &appSpec{name: "pos", router: &router, options: buildOptions(app)}
}

func generateOne(app *appSpec, names ...string) *httpConfig {
	var members []member
	for _, name := range names {
		members = append(members, member{Name: name, URL: "http://127.0.0.1:1"})
	}
	return generate("storeaffinity", []*appSpec{app}, map[string][]member{app.name: members}).HTTP
}

// TestSplitRoutersNeverOverlap checks that the stateless router's rule excludes every
// request the stateful one catches, and that both keep the router's priority, even at
// its largest: when Traefik disables the stateful router, a device's request matches
// no router at all, and a priority one above the largest cannot wrap around.
func TestSplitRoutersNeverOverlap(t *testing.T) {
	h := generateOne(splitApp(Router{Rule: "Host(`pos.example.com`)", Priority: maxRouterPriority}, "/api/appId/pos/deviceId"), "pos-0", "pos-1")
	stateful, stateless := h.Routers[WeightedService("pos")], h.Routers[RoundRobinService("pos")]
	if stateful == nil || stateless == nil {
		t.Fatalf("routers %v, want the stateful and the stateless one", h.Routers)
	}
	sources := strings.TrimPrefix(stateful.Rule, "(Host(`pos.example.com`)) && ")
	if sources == stateful.Rule || stateless.Rule != "(Host(`pos.example.com`)) && !"+sources {
		t.Errorf("stateful rule %s\nstateless rule %s\nwant the app's rule and the sources, and the app's rule and not the sources", stateful.Rule, stateless.Rule)
	}
	if stateful.Priority != maxRouterPriority || stateless.Priority != maxRouterPriority {
		t.Errorf("priorities %d and %d, want the router's %d for both", stateful.Priority, stateless.Priority, maxRouterPriority)
	}
	_, err := buildApp("apps[0]", &App{Name: "pos", Static: &StaticDiscovery{Servers: []string{"pos-0=http://127.0.0.1:1"}},
		Router: &Router{Rule: "PathPrefix(`/`)", Priority: math.MaxInt}})
	if err == nil || !strings.Contains(err.Error(), "apps[0].router.priority") {
		t.Errorf("a priority above Traefik's largest: %v, want an error naming apps[0].router.priority", err)
	}
}

// TestSplitRoutersWithoutPriorityRankAsTheAppsRule checks that, without a priority,
// both routers take the length of the app's rule as theirs, the rank Traefik gives the
// app's rule: the longer split rules would outrank the operator's other routers.
func TestSplitRoutersWithoutPriorityRankAsTheAppsRule(t *testing.T) {
	rule := "Host(`pos.example.com`)"
	h := generateOne(splitApp(Router{Rule: rule}, "/api/appId/pos/deviceId"), "pos-0")
	for _, name := range []string{WeightedService("pos"), RoundRobinService("pos")} {
		if got := h.Routers[name].Priority; got != len(rule) {
			t.Errorf("router %s: priority %d, want %d, the length of the app's rule", name, got, len(rule))
		}
	}
}

// TestOneRouterKeepsOneRouter checks router.oneRouter, for entry-point middlewares
// that the provider cannot see.
func TestOneRouterKeepsOneRouter(t *testing.T) {
	h := generateOne(splitApp(Router{Rule: "PathPrefix(`/`)", OneRouter: true}, "/api/appId/pos/deviceId"), "pos-0")
	if router := h.Routers[WeightedService("pos")]; len(h.Routers) != 1 || router == nil || router.Rule != "PathPrefix(`/`)" {
		t.Errorf("routers %v, want one router with the app's rule", h.Routers)
	}
}

// TestRouterMiddlewaresKeepOneRouter checks that a router with middlewares, which may
// rewrite the request after Traefik chose a router (stripPrefix, a forwardAuth that
// sets the device header), is emitted as one router through the affinity middleware.
func TestRouterMiddlewaresKeepOneRouter(t *testing.T) {
	h := generateOne(splitApp(Router{Rule: "PathPrefix(`/pos`)", Middlewares: []string{"strip-pos@file"}}, "/api/appId/pos/deviceId"), "pos-0")
	router := h.Routers[WeightedService("pos")]
	if len(h.Routers) != 1 || router == nil || router.Rule != "PathPrefix(`/pos`)" {
		t.Fatalf("routers %v, want one router with the app's rule", h.Routers)
	}
	if want := []string{"strip-pos@file", AffinityMiddleware("pos")}; strings.Join(router.Middlewares, " ") != strings.Join(want, " ") {
		t.Errorf("middlewares %v, want %v", router.Middlewares, want)
	}
}

// TestTrailingSlashPrefixesMatchAsTheMiddlewareReadsThem checks that a prefix written
// with a trailing '/' reaches the middleware and the stateful rule without it, as the
// middleware reads it: the rule then catches the device's requests.
func TestTrailingSlashPrefixesMatchAsTheMiddlewareReadsThem(t *testing.T) {
	h := generateOne(splitApp(Router{Rule: "PathPrefix(`/`)"}, "/api/appId/pos/deviceId/", "/api/app/pos/node//"), "pos-0")
	options := h.Middlewares[AffinityMiddleware("pos")].Plugin["storeaffinity"]
	if got := strings.Join(options.DeviceAffinityPrefixes, " "); got != "/api/appId/pos/deviceId /api/app/pos/node" {
		t.Errorf("the middleware gets prefixes %s, want them without a trailing '/'", got)
	}
	rule := h.Routers[WeightedService("pos")].Rule
	pattern := regexp.MustCompile("PathRegexp\\(`([^`]*)`\\)").FindStringSubmatch(rule)
	if pattern == nil {
		t.Fatalf("no PathRegexp in %s", rule)
	}
	paths := regexp.MustCompile(pattern[1])
	for _, path := range []string{"/api/appId/pos/deviceId/00123-001/ticket", "/api/app/pos/node/00123-001", "/api/appId/pos/deviceId"} {
		if !paths.MatchString(path) {
			t.Errorf("the stateful rule's paths %s miss %s", pattern[1], path)
		}
	}
}

// TestAMemberCannotTakeTheRoundRobinServiceName checks that a member named roundrobin,
// whose service would be <app>-roundrobin, is refused: a static one in the
// configuration, a discovered one left out with a log line, so that the round-robin
// service never replaces a member's service.
func TestAMemberCannotTakeTheRoundRobinServiceName(t *testing.T) {
	_, err := newStaticSource("apps[0].static", &StaticDiscovery{Servers: []string{"pos-0=http://127.0.0.1:1", "roundrobin=http://127.0.0.1:2"}})
	if err == nil || !strings.Contains(err.Error(), "apps[0].static.servers[1]") {
		t.Errorf("a static member named roundrobin: %v, want an error naming apps[0].static.servers[1]", err)
	}
	sources, cfgChan := startFake(t, 0, "pos")
	report(t, sources["pos"], []member{{Name: "pos-0", URL: "http://127.0.0.1:1"}, {Name: "roundrobin", URL: "http://127.0.0.1:2"}})
	got := receive(t, cfgChan, 5e9)
	if strings.Join(got["pos"], " ") != "pos-pos-0" {
		t.Errorf("the middleware's members %v, want [pos-pos-0]: a member named roundrobin is left out", got["pos"])
	}
	var log bytes.Buffer
	refused := map[string]string{}
	for i := 0; i < 2; i++ {
		withoutTakenNames(&log, "pos", []member{{Name: "roundrobin"}}, refused)
	}
	if lines := strings.Count(log.String(), "\n"); lines != 1 || !strings.Contains(log.String(), "[roundrobin] left out") {
		t.Errorf("log %q, want one line that names the member left out", log.String())
	}
}
