package traefik

import (
	"math"
	"net/http"
	"strings"
	"testing"

	"github.com/storeaffinity/storeaffinity-provider"
	"github.com/storeaffinity/storeaffinity/demo/commerce"
	"github.com/storeaffinity/storeaffinity/demo/harness/fleet"
	"github.com/storeaffinity/storeaffinity/demo/harness/stack"
)

// splitSources are device-ID sources that Traefik's matchers can see, so the
// provider's router option emits the stateful and the stateless router.
var splitSources = stack.App{Extra: map[string]any{"deviceIdHeader": "X-Device-Id", "stompConnectPaths": []string{commerce.StompPath}}}

// hostilePaths are request targets, as sent, that a backend or the middleware may read
// a device ID from, or refuse, and their near misses.
var hostilePaths = []string{
	"/", "/api/catalog", "/api/appId/pos/deviceId/00123-001/ticket",
	"/api/appId/pos/deviceId", "/api/appId/pos/deviceId/", "/api/appId/pos/deviceId;x", "/api/appId/pos/deviceIdX/00123-001/ticket",
	"/api/appId/pos;v=1/deviceId/00123-001/ticket", "/api;x=1/appId/pos/deviceId/00123-001/ticket",
	"/api/appId/pos/deviceId;x/00123-001/ticket", "/api/appId/pos/deviceId/00123-001;jsessionid=x/ticket",
	"/api/appId/pos%2FdeviceId/00123-001/ticket", "/api%2fappId/pos/deviceId/00123-001/ticket",
	"/api/appId/pos/deviceId%2F00123-001/ticket", "/api/appId/pos/deviceId/00123-001%2D1/ticket",
	"/api/app%49d/pos/deviceId/00123-001/ticket", "/api/appId/pos/device%49d/00123-001/ticket",
	"/api/appId/pos/deviceId/%30%30123-001/ticket", "/api/appId/pos/deviceId%3B/00123-001/ticket",
	"/API/appId/pos/deviceId/00123-001/ticket", "//api/appId/pos/deviceId/00123-001/ticket",
	"/api/appId/pos/./deviceId/00123-001/ticket", "/api/appId/x/../pos/deviceId/00123-001/ticket",
	"/api/websocket", "/api/websocket;jsessionid=1", "/api/websocket%3Bx", "/api/websocket/", "/api/websocket%2F",
	"/api/catalog?deviceId=00123-001",
}

// TestSplitRoutersAnswerAsOneRouter sends every hostile path with every hostile header
// to one Traefik on two entry points: "web", through the provider's two routers, and
// "one", through one router with the affinity middleware (a file-provider router, as
// an IngressRoute would use it). Each request must get the same status, the same stamp
// at the backend and on the response and, when routed by its store, the same replica:
// the stateless router gets nothing that the middleware would read or refuse, and the
// backend reads the same device header (in its CGI spellings) either way.
func TestSplitRoutersAnswerAsOneRouter(t *testing.T) {
	replicas, err := stack.StartReplicas("pos-0", "pos-1", "pos-2")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(replicas.Close)
	splitSources.Static = replicas.StaticServers()
	router, service, middleware := stack.Objects(app)
	traefik := stack.TraefikForTest(t, stack.TraefikOptions{
		Provider:    stack.ProviderConfig(splitSources),
		Plugins:     installPlugins,
		EntryPoints: []string{"one"},
		Dynamic: map[string]any{"http": map[string]any{"routers": map[string]any{"one": map[string]any{
			"entryPoints": []string{"one"}, "rule": "PathPrefix(`/`)", "service": service, "middlewares": []string{middleware},
		}}}},
	})
	stateless := provider.RoundRobinService(app) + stack.ProviderObjectAt
	for kind, name := range map[string]string{stack.Routers: router, stack.Services: stateless, stack.Middlewares: provider.StripMiddleware(app) + stack.ProviderObjectAt} {
		if err := traefik.API.WaitEnabled(t.Context(), kind, name); err != nil {
			t.Fatalf("%v\n%s", err, traefik.Trouble())
		}
	}
	if err := traefik.API.WaitEnabled(t.Context(), stack.Routers, provider.RoundRobinService(app)+stack.ProviderObjectAt, "one@file"); err != nil {
		t.Fatalf("%v\n%s", err, traefik.Trouble())
	}
	forged := affinity("00999", member("pos-0"))
	headers := []http.Header{
		nil,
		{"X-Device-Id": {"00456-001"}},
		{"x_device_id": {"00456-001"}},
		{"X-Device_Id": {"00123-001"}},
		{"X-Device-Id": {"00123-001", "00456-001"}},
		{"X-Device-Id": {""}},
		{"X-Store-Affinity": {forged}},
		{"X_Store_Affinity": {forged}},
		{"x-store_affinity": {forged}},
		{"Cookie": {stickyCookie + "=" + stickyValue(member("pos-1"))}},
	}
	split, one := fleet.NewClient(traefik.WebURL), fleet.NewClient(traefik.URLs["one"])
	routedByStore, stateful := 0, 0
	for _, path := range hostilePaths {
		for _, header := range headers {
			split.Header, one.Header = header, header
			a, errA := split.Get(t.Context(), path)
			b, errB := one.Get(t.Context(), path)
			if errA != nil || errB != nil {
				t.Fatalf("%s %v: %v / %v", path, header, errA, errB)
			}
			if a.Status != b.Status || a.Reply.Affinity != b.Reply.Affinity || a.Reply.DeviceHeader != b.Reply.DeviceHeader || a.Header.Get("X-Store-Affinity") != b.Header.Get("X-Store-Affinity") {
				t.Errorf("%s %v:\n split routers: %d, backend read stamp %q and device header %q, response stamp %q %s\n one router:    %d, backend read stamp %q and device header %q, response stamp %q %s",
					path, header, a.Status, a.Reply.Affinity, a.Reply.DeviceHeader, a.Header.Get("X-Store-Affinity"), a.Body,
					b.Status, b.Reply.Affinity, b.Reply.DeviceHeader, b.Header.Get("X-Store-Affinity"), b.Body)
				continue
			}
			if b.Reply.Affinity != "" {
				routedByStore++
				if a.Reply.Replica != b.Reply.Replica {
					t.Errorf("%s %v: routed by store to %s through the split routers, to %s through one", path, header, a.Reply.Replica, b.Reply.Replica)
				}
			}
			if a.Status != http.StatusOK || b.Reply.Affinity != "" {
				stateful++
			}
		}
	}
	t.Logf("%d requests answered alike through both; %d routed by store, %d refused or routed by store", len(hostilePaths)*len(headers), routedByStore, stateful)
}

// TestSplitRoutersFailClosed checks, through Traefik, each way the two routers could
// send a device's request to round-robin without a word: a middleware option the
// middleware refuses (Traefik disables the stateful router: the device's request must
// get 404, as through one router), a router priority at its largest (one above it
// would wrap around), a router middleware that rewrites the path (stripPrefix acts
// after the routers matched), and a prefix written with a trailing '/'. Every other
// case must route the device's requests by store.
func TestSplitRoutersFailClosed(t *testing.T) {
	replicas, err := stack.StartReplicas("pos-0", "pos-1", "pos-2")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(replicas.Close)
	devicePath := commerce.Prefix + "/00123-001/ticket"
	cases := []struct {
		app, path string
		router    map[string]any
		extra     map[string]any
		refused   bool
	}{
		{"typo", devicePath, nil, map[string]any{"rebalanceGrace": "5"}, true},
		{"maxprio", devicePath, map[string]any{"priority": math.MaxInt64 - 1000}, nil, false}, // Traefik's largest
		{"strip", "/pos" + devicePath, map[string]any{"middlewares": []string{"strip-pos@file"}}, nil, false},
		{"slash", devicePath, nil, map[string]any{"deviceAffinityPrefixes": []string{commerce.Prefix + "/"}}, false},
	}
	var apps []stack.App
	var entryPoints []string
	for _, c := range cases {
		router := map[string]any{"rule": "PathPrefix(`/`)", "entryPoints": []string{c.app}}
		for k, v := range c.router {
			router[k] = v
		}
		extra := map[string]any{"deviceIdHeader": "X-Device-Id", "router": router}
		for k, v := range c.extra {
			extra[k] = v
		}
		apps = append(apps, stack.App{Name: c.app, Static: replicas.StaticServers(), Extra: extra})
		entryPoints = append(entryPoints, c.app)
	}
	traefik := stack.TraefikForTest(t, stack.TraefikOptions{
		Provider:    stack.ProviderConfig(apps...),
		Plugins:     installPlugins,
		EntryPoints: entryPoints,
		Dynamic: map[string]any{"http": map[string]any{"middlewares": map[string]any{
			"strip-pos": map[string]any{"stripPrefix": map[string]any{"prefixes": []string{"/pos"}}},
		}}},
	})
	for _, c := range cases {
		router := provider.WeightedService(c.app) // Traefik disables it when the middleware is refused
		if c.refused {
			router = provider.RoundRobinService(c.app)
		}
		if err := traefik.API.WaitEnabled(t.Context(), stack.Routers, router+stack.ProviderObjectAt); err != nil {
			t.Errorf("%s: %v", c.app, err)
		}
	}
	for _, c := range cases {
		t.Run(c.app, func(t *testing.T) {
			client := fleet.NewClient(traefik.URLs[c.app])
			got, err := client.Get(t.Context(), c.path)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case c.refused && got.Status != http.StatusNotFound:
				t.Errorf("a device's request with the affinity middleware disabled got %d from %q (stamp %q), want 404 from no router", got.Status, got.Reply.Replica, got.Reply.Affinity)
			case !c.refused && (got.Status != http.StatusOK || !strings.HasPrefix(got.Reply.Affinity, "store=00123; member="+c.app+"-")):
				t.Errorf("a device's request got %d, stamp %q at the backend, want it routed by store 00123 %s", got.Status, got.Reply.Affinity, got.Body)
			}
		})
	}
}
