package provider

import (
	"bytes"
	"encoding/json"
)

// generate builds the dynamic configuration of the apps whose membership is known
// (an app missing from members is left out). The member lists need not be sorted.
func generate(middlewarePlugin string, apps []*appSpec, members map[string][]member) *dynamicConfig {
	h := &httpConfig{
		Routers:     make(map[string]*routerConfig),
		Services:    make(map[string]*serviceConfig),
		Middlewares: make(map[string]*middlewareConfig),
	}
	for _, app := range apps {
		list, known := members[app.name]
		if known {
			addApp(h, middlewarePlugin, app, sortMembers(list))
		}
	}
	return &dynamicConfig{HTTP: h}
}

// addApp adds one app's objects: a service per member, the weighted service, the
// round-robin service, the affinity and strip middlewares, and the optional routers.
func addApp(h *httpConfig, middlewarePlugin string, app *appSpec, members []member) {
	weighted := &weightedConfig{
		Services: []weightedChild{},
		Sticky:   stickyConfig{Cookie: cookieConfig{Name: StickyCookie(app.name), HTTPOnly: true}},
	}
	names := []string{}
	roundRobin := &loadBalancerConfig{Servers: []serverConfig{}, PassHostHeader: true}
	for _, m := range members {
		service := MemberService(app.name, m.Name)
		h.Services[service] = &serviceConfig{LoadBalancer: &loadBalancerConfig{
			Servers:        []serverConfig{{URL: m.URL}},
			PassHostHeader: true,
		}}
		weighted.Services = append(weighted.Services, weightedChild{Name: service, Weight: 1})
		names = append(names, service)
		roundRobin.Servers = append(roundRobin.Servers, serverConfig{URL: m.URL})
	}
	h.Services[WeightedService(app.name)] = &serviceConfig{Weighted: weighted}
	h.Services[RoundRobinService(app.name)] = &serviceConfig{LoadBalancer: roundRobin}

	options := app.options
	options.Members = names
	options.StickyCookie = weighted.Sticky.Cookie.Name
	options.App = app.name
	middleware := AffinityMiddleware(app.name)
	h.Middlewares[middleware] = &middlewareConfig{Plugin: map[string]*affinityConfig{middlewarePlugin: &options}}

	h.Middlewares[StripMiddleware(app.name)] = &middlewareConfig{Headers: &headersConfig{CustomRequestHeaders: stripHeaders(options)}}
	if app.router != nil {
		addRouters(h, app, options, middleware)
	}
}

// addRouters adds the app's router through the affinity middleware and, when the
// requests can be split (fastpath.go), a second one that sends every request without
// a device-ID source to the round-robin service.
func addRouters(h *httpConfig, app *appSpec, options affinityConfig, middleware string) {
	stateful := &routerConfig{
		EntryPoints: app.router.EntryPoints,
		Service:     WeightedService(app.name),
		Rule:        app.router.Rule,
		Priority:    app.router.Priority,
	}
	stateful.Middlewares = append(stateful.Middlewares, app.router.Middlewares...)
	stateful.Middlewares = append(stateful.Middlewares, middleware)
	h.Routers[WeightedService(app.name)] = stateful
	if !splitRouters(app.router, options) {
		return
	}
	stateful.Rule = statefulRule(app.router.Rule, options)
	if stateful.Priority == 0 {
		// Traefik ranks a router without a priority by its rule's length: both keep
		// the rank of the app's rule, which the longer split rules would outrank others
		// with.
		stateful.Priority = len(app.router.Rule)
	}
	stateless := &routerConfig{
		EntryPoints: app.router.EntryPoints,
		Service:     RoundRobinService(app.name),
		Rule:        statelessRule(app.router.Rule, options),
		Priority:    stateful.Priority,
		Middlewares: []string{StripMiddleware(app.name)},
	}
	h.Routers[RoundRobinService(app.name)] = stateless
}

// encode returns the configuration as indented JSON. Map keys come out sorted, so
// equal configurations encode to equal bytes.
func encode(cfg *dynamicConfig) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(cfg); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
