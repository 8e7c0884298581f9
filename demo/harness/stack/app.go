package stack

import (
	provider "github.com/storeaffinity/storeaffinity-provider"
	"github.com/storeaffinity/storeaffinity/demo/commerce"
)

// App is one application of the provider's configuration, with the demo's defaults.
type App struct {
	// Name is the app name (default "pos"): objects are <name>, <name>-affinity, ...
	Name string
	// Static lists name=url servers; DNS, when set, is used instead.
	Static []string
	DNS    map[string]any
	// RebalanceGrace is passed to the middleware when set.
	RebalanceGrace string
	// Extra holds more app keys (middleware options) as they are written in YAML.
	Extra map[string]any
}

// ProviderConfig returns providers.plugin.storeaffinityprovider for apps. Every app
// gets a router on the "web" entry point matching the demo API (PathPrefix /), and the
// demo's device-affinity prefix.
func ProviderConfig(apps ...App) map[string]any {
	var list []any
	for _, app := range apps {
		name := app.Name
		if name == "" {
			name = "pos"
		}
		m := map[string]any{
			"name":                   name,
			"deviceAffinityPrefixes": []string{commerce.Prefix},
			"router":                 map[string]any{"rule": "PathPrefix(`/`)", "entryPoints": []string{"web"}},
		}
		if app.DNS != nil {
			m["dns"] = app.DNS
		} else {
			m["static"] = map[string]any{"servers": app.Static}
		}
		if app.RebalanceGrace != "" {
			m["rebalanceGrace"] = app.RebalanceGrace
		}
		for k, v := range app.Extra {
			m[k] = v
		}
		list = append(list, m)
	}
	return map[string]any{"middlewarePlugin": MiddlewareAlias, "apps": list}
}

// Objects returns the full names of the objects the provider emits for an app.
func Objects(app string) (router, service, middleware string) {
	return provider.WeightedService(app) + ProviderObjectAt, provider.WeightedService(app) + ProviderObjectAt, provider.AffinityMiddleware(app) + ProviderObjectAt
}
