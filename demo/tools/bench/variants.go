package main

import (
	"fmt"
	"path/filepath"

	"github.com/storeaffinity/storeaffinity"
	"github.com/storeaffinity/storeaffinity/demo/harness/stack"
	"github.com/storeaffinity/storeaffinity/demo/tools/probes"
)

// variant is one chain under test, served on an entry point of its own.
type variant struct {
	name     string
	stateful bool   // requests carry a device ID (cycling through devices)
	mix      bool   // one request in 10 carries a device ID, the others none
	cookie   string // a sticky cookie the client holds, besides session=abc
	hop      bool   // the chain includes the sharding proxy
}

// variants are the chains, in the order each round runs them.
var variants = []variant{
	{name: "plain"},
	{name: "sticky", cookie: "w3_affinity=" + storeaffinity.StickyValue("m-0")},
	{name: "floor", cookie: "w3_affinity=" + storeaffinity.StickyValue("m-0")},
	{name: "floor-100", cookie: "w100_affinity=" + storeaffinity.StickyValue("m-0")},
	{name: "least-stateful-3", stateful: true},
	{name: "least-stateless-3"},
	{name: "ours-stateful-3", stateful: true},
	{name: "ours-stateful-3-nometrics", stateful: true},
	{name: "ours-stateless-3"},
	{name: "ours-stateless-3-nometrics"},
	{name: "ours-stateful-100", stateful: true},
	{name: "ours-stateless-100"},
	{name: "second-hop", stateful: true, hop: true},
	{name: "ours-mix-3", mix: true},
	{name: "split-stateless-3"},
	{name: "split-stateful-3", stateful: true},
	{name: "split-mix-3", mix: true},
}

// splitVariants are served by the provider's two routers (the fast path).
var splitVariants = []string{"split-stateless-3", "split-stateful-3", "split-mix-3"}

// variantNamed returns the variant called name.
func variantNamed(name string) variant {
	for _, v := range variants {
		if v.name == name {
			return v
		}
	}
	panic("no variant " + name)
}

// description says what each variant measures, for BENCHMARKS.md.
var description = map[string]string{
	"plain":                      "plain load-balancer service over the 3 backends",
	"sticky":                     "Traefik's sticky weighted service, cookie held by the client",
	"floor":                      "do-nothing interpreted plugin + the sticky weighted service (the floor)",
	"floor-100":                  "do-nothing interpreted plugin + the sticky weighted service of 100 members",
	"least-stateful-3":           "least store-routing interpreted plugin (no checks, no tracking), stateful, 3 members",
	"least-stateless-3":          "least store-routing interpreted plugin (no checks, no tracking), stateless, 3 members",
	"ours-stateful-3":            "storeaffinity, stateful (1000 devices), 3 members",
	"ours-stateless-3":           "storeaffinity, stateless, 3 members",
	"ours-stateful-3-nometrics":  "storeaffinity without its counting for the metrics, stateful (1000 devices), 3 members",
	"ours-stateless-3-nometrics": "storeaffinity without its counting for the metrics, stateless, 3 members",
	"ours-stateful-100":          "storeaffinity, stateful (1000 devices), 100 members",
	"ours-stateless-100":         "storeaffinity, stateless, 100 members",
	"second-hop":                 "StateLB-style second hop: Traefik, a Go sharding proxy, the backend (CPU of both proxies)",
	"ours-mix-3":                 "storeaffinity, one router, 90% stateless / 10% stateful, 3 members",
	"split-stateless-3":          "storeaffinity, the provider's two routers (fast path), stateless, 3 members",
	"split-stateful-3":           "storeaffinity, the provider's two routers (fast path), stateful, 3 members",
	"split-mix-3":                "storeaffinity, the provider's two routers (fast path), 90% stateless / 10% stateful, 3 members",
}

// providerConfig is the provider's app of the split variants: the 3 backends as
// static members, the demo's prefix, and a router on the split variants' entry points.
func providerConfig(backends []string) map[string]any {
	var servers []string
	for i, b := range backends {
		servers = append(servers, fmt.Sprintf("m-%d=%s", i, b))
	}
	return map[string]any{"middlewarePlugin": stack.MiddlewareAlias, "apps": []any{map[string]any{
		"name":                   "sp",
		"static":                 map[string]any{"servers": servers},
		"deviceAffinityPrefixes": []string{"/api/appId/pos/deviceId"},
		"router":                 map[string]any{"rule": "PathPrefix(`/`)", "entryPoints": splitVariants},
	}}}
}

// dynamicConfig routes each variant's entry point: 100 member services over the 3
// backends, weighted services of 3 and 100 of them, and the middlewares.
func dynamicConfig(backends []string, shardProxy string) map[string]any {
	services := map[string]any{
		"plain": map[string]any{"loadBalancer": servers(backends...)},
		"hop":   map[string]any{"loadBalancer": servers(shardProxy)},
	}
	var members3, members100 []string
	var children3, children100 []any
	for i := 0; i < 100; i++ {
		name := fmt.Sprintf("m-%d", i)
		services[name] = map[string]any{"loadBalancer": servers(backends[i%len(backends)])}
		members100 = append(members100, name)
		children100 = append(children100, map[string]any{"name": name, "weight": 1})
		if i < 3 {
			members3 = append(members3, name)
			children3 = append(children3, map[string]any{"name": name, "weight": 1})
		}
	}
	services["w3"] = weighted(children3, "w3_affinity")
	services["w100"] = weighted(children100, "w100_affinity")
	affinity := func(plugin string, members []string, cookie string) map[string]any {
		return map[string]any{"plugin": map[string]any{plugin: map[string]any{
			"deviceAffinityPrefixes": []string{"/api/appId/pos/deviceId"},
			"members":                members,
			"stickyCookie":           cookie,
		}}}
	}
	middlewares := map[string]any{
		"floor": map[string]any{"plugin": map[string]any{probes.FloorAlias: map[string]any{}}},
		"aff3":  affinity(stack.MiddlewareAlias, members3, "w3_affinity"),
		"least3": map[string]any{"plugin": map[string]any{probes.LeastAlias: map[string]any{
			"members": members3, "stickyCookie": "w3_affinity", "prefix": "/api/appId/pos/deviceId",
		}}},
		"aff100":        affinity(stack.MiddlewareAlias, members100, "w100_affinity"),
		"aff3nometrics": affinity(noMetricsAlias, members3, "w3_affinity"),
	}
	stomp := affinity(stack.MiddlewareAlias, members3, "w3_affinity")
	options := stomp["plugin"].(map[string]any)[stack.MiddlewareAlias].(map[string]any)
	options["stompConnectPaths"], options["deviceIdQuery"] = "/api/websocket", "deviceId"
	middlewares["aff3stomp"] = stomp
	route := map[string][2]string{ // variant: service, middleware
		"plain": {"plain", ""}, "sticky": {"w3", ""}, "floor": {"w3", "floor"}, "floor-100": {"w100", "floor"},
		"least-stateful-3": {"w3", "least3"}, "least-stateless-3": {"w3", "least3"},
		"ours-stateful-3": {"w3", "aff3"}, "ours-stateless-3": {"w3", "aff3"},
		"ours-stateful-3-nometrics": {"w3", "aff3nometrics"}, "ours-stateless-3-nometrics": {"w3", "aff3nometrics"},
		"ours-stateful-100": {"w100", "aff100"}, "ours-stateless-100": {"w100", "aff100"},
		"second-hop": {"hop", ""}, stompEntryPoint: {"w3", "aff3stomp"}, "ours-mix-3": {"w3", "aff3"},
	}
	routers := map[string]any{}
	for name, r := range route {
		router := map[string]any{"rule": "PathPrefix(`/`)", "service": r[0], "entryPoints": []string{name}}
		if r[1] != "" {
			router["middlewares"] = []string{r[1]}
		}
		routers[name] = router
	}
	return map[string]any{"http": map[string]any{"routers": routers, "services": services, "middlewares": middlewares}}
}

func servers(urls ...string) map[string]any {
	var list []any
	for _, u := range urls {
		list = append(list, map[string]any{"url": u})
	}
	return map[string]any{"servers": list, "passHostHeader": true}
}

func weighted(children []any, cookie string) map[string]any {
	return map[string]any{"weighted": map[string]any{
		"services": children,
		"sticky":   map[string]any{"cookie": map[string]any{"name": cookie, "httpOnly": true}},
	}}
}

// installPlugins installs both plugins, the middleware without its counting for the
// metrics and the two reference middlewares as local plugins.
func installPlugins(dir string) error {
	if err := stack.InstallPlugins(dir); err != nil {
		return err
	}
	if err := installNoMetricsPlugin(filepath.Join(dir, "plugins-local")); err != nil {
		return err
	}
	if err := probes.InstallFloorPlugin(filepath.Join(dir, "plugins-local")); err != nil {
		return err
	}
	return probes.InstallLeastPlugin(filepath.Join(dir, "plugins-local"))
}
