package provider

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
)

// maxRouterPriority is the largest router priority Traefik takes from a provider: the
// ones above are its own internal routers'.
const maxRouterPriority = math.MaxInt - 1000

// appSpec is a validated app: its discovery source and the options its objects carry.
type appSpec struct {
	name    string
	source  source
	checked bool // a health check filters the members, and logs their changes
	router  *Router
	options affinityConfig // without members and stickyCookie
}

// buildApps validates the configuration and returns the apps in configuration order.
// Errors name the key at fault.
func buildApps(cfg *Config) ([]*appSpec, error) {
	if cfg == nil {
		return nil, errors.New("no configuration")
	}
	if strings.TrimSpace(cfg.MiddlewarePlugin) == "" {
		return nil, errors.New("middlewarePlugin: empty; set the alias of the storeaffinity middleware plugin")
	}
	if len(cfg.Apps) == 0 {
		return nil, errors.New("apps: no app configured")
	}
	if cfg.Metrics != nil {
		if err := checkMetrics(cfg.Metrics); err != nil {
			return nil, err
		}
	}
	seen := make(map[string]bool)
	var specs []*appSpec
	for i := range cfg.Apps {
		key := fmt.Sprintf("apps[%d]", i)
		spec, err := buildApp(key, &cfg.Apps[i])
		if err != nil {
			return nil, err
		}
		if cfg.Metrics != nil && WeightedService(spec.name) == MetricsObject {
			return nil, fmt.Errorf("%s.name: %q is the name of the metrics router; rename the app", key, spec.name)
		}
		if seen[spec.name] {
			return nil, fmt.Errorf("%s.name: duplicate app name %q", key, spec.name)
		}
		for _, other := range specs {
			if err := namesOverlap(spec.name, other.name); err != nil {
				return nil, fmt.Errorf("%s.name: %w", key, err)
			}
		}
		seen[spec.name] = true
		specs = append(specs, spec)
	}
	return specs, nil
}

func buildApp(key string, app *App) (*appSpec, error) {
	name := strings.TrimSpace(app.Name)
	if name == "" {
		return nil, fmt.Errorf("%s.name: empty", key)
	}
	if !validName(name) {
		return nil, fmt.Errorf("%s.name: %q has characters other than letters, digits, '-', '_' and '.'", key, name)
	}
	if err := checkUnknownKeys(key, app.Unknown); err != nil {
		return nil, err
	}
	src, err := buildSource(key, app)
	if err != nil {
		return nil, err
	}
	if app.HealthCheck != nil {
		health, err := newHealthSource(key+".healthCheck", app.HealthCheck, src)
		if err != nil {
			return nil, err
		}
		health.app = name
		src = health
	}
	spec := &appSpec{name: name, source: src, checked: app.HealthCheck != nil, options: buildOptions(app)}
	if app.Router != nil {
		if strings.TrimSpace(app.Router.Rule) == "" {
			return nil, fmt.Errorf("%s.router.rule: empty", key)
		}
		if app.Router.Priority > maxRouterPriority {
			return nil, fmt.Errorf("%s.router.priority: %d is above Traefik's largest router priority, %d", key, app.Router.Priority, maxRouterPriority)
		}
		r := *app.Router
		r.EntryPoints = splitList(r.EntryPoints)
		r.Middlewares = splitList(r.Middlewares)
		spec.router = &r
	}
	return spec, nil
}

// buildSource returns the app's one discovery source.
func buildSource(key string, app *App) (source, error) {
	var kinds []string
	if app.Static != nil {
		kinds = append(kinds, "static")
	}
	if app.DNS != nil {
		kinds = append(kinds, "dns")
	}
	if app.Kubernetes != nil {
		kinds = append(kinds, "kubernetes")
	}
	if len(kinds) == 0 {
		return nil, fmt.Errorf("%s: no discovery kind; set one of static, dns or kubernetes", key)
	}
	if len(kinds) > 1 {
		return nil, fmt.Errorf("%s: %s are both set; choose one discovery kind", key, strings.Join(kinds, " and "))
	}
	// Each case checks its error before the conversion to source: under Yaegi,
	// returning the constructor's results directly loses the error.
	switch kinds[0] {
	case "static":
		src, err := newStaticSource(key+".static", app.Static)
		if err != nil {
			return nil, err
		}
		return src, nil
	case "dns":
		src, err := newDNSSource(key+".dns", app.DNS)
		if err != nil {
			return nil, err
		}
		return src, nil
	}
	src, err := newKubernetesSource(key+".kubernetes", app.Kubernetes)
	if err != nil {
		return nil, err
	}
	return src, nil
}

// checkUnknownKeys rejects keys that match no field: a map value is taken for an
// unknown discovery kind, anything else for a misspelt option.
func checkUnknownKeys(key string, unknown map[string]interface{}) error {
	if len(unknown) == 0 {
		return nil
	}
	names := make([]string, 0, len(unknown))
	for name := range unknown {
		names = append(names, name)
	}
	sort.Strings(names)
	name := names[0]
	if _, isMap := unknown[name].(map[string]interface{}); isMap {
		return fmt.Errorf("%s.%s: unknown discovery kind %q (want static, dns or kubernetes)", key, name, name)
	}
	return fmt.Errorf("%s.%s: unknown key", key, name)
}

// buildOptions collects the middleware options the provider passes through. The
// middleware checks them itself when Traefik builds it, and names the key at fault;
// the two plugins are separate modules, so the provider does not repeat the rules.
func buildOptions(app *App) affinityConfig {
	return affinityConfig{
		DeviceAffinityPrefixes: trimPrefixes(splitList(app.DeviceAffinityPrefixes)),
		DeviceIDHeader:         strings.TrimSpace(app.DeviceIDHeader),
		DeviceIDQuery:          strings.TrimSpace(app.DeviceIDQuery),
		StoreIDPattern:         app.StoreIDPattern,
		Strategy:               strings.TrimSpace(app.Strategy),
		AffinityHeader:         strings.TrimSpace(app.AffinityHeader),
		MissingDeviceID:        strings.TrimSpace(app.MissingDeviceID),
		RebalanceGrace:         strings.TrimSpace(app.RebalanceGrace),
		RebalanceSpread:        strings.TrimSpace(app.RebalanceSpread),
		StompConnectPaths:      splitList(app.StompConnectPaths),
		StompDeviceIDHeader:    strings.TrimSpace(app.StompDeviceIDHeader),
		ResponseStamp:          strings.TrimSpace(app.ResponseStamp),
	}
}

// trimPrefixes returns device-affinity prefixes without a trailing '/', as the
// middleware reads them (its parsePrefixes, in the other module): the stateful rule
// and the middleware then match the same paths. A prefix of '/' alone is left for the
// middleware to refuse.
func trimPrefixes(prefixes []string) []string {
	for i, prefix := range prefixes {
		if trimmed := strings.TrimRight(prefix, "/"); trimmed != "" {
			prefixes[i] = trimmed
		}
	}
	return prefixes
}

// namesOverlap refuses two app names of which one is the other followed by '-': the
// objects of the longer could take the names of the shorter's member services (app
// pos with member cx, and app pos-cx, would both emit service pos-cx).
func namesOverlap(a, b string) error {
	if strings.HasPrefix(a, b+"-") {
		a, b = b, a
	}
	if strings.HasPrefix(b, a+"-") {
		return fmt.Errorf("apps %q and %q: the generated service names of %q start with %q, so they could collide with the services of %q's members; rename one", a, b, b, a+"-", a)
	}
	return nil
}
