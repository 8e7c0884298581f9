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
// affinity middleware and the optional router.
func addApp(h *httpConfig, middlewarePlugin string, app *appSpec, members []member) {
	weighted := &weightedConfig{
		Services: []weightedChild{},
		Sticky:   stickyConfig{Cookie: cookieConfig{Name: StickyCookie(app.name), HTTPOnly: true}},
	}
	names := []string{}
	for _, m := range members {
		service := MemberService(app.name, m.Name)
		h.Services[service] = &serviceConfig{LoadBalancer: &loadBalancerConfig{
			Servers:        []serverConfig{{URL: m.URL}},
			PassHostHeader: true,
		}}
		weighted.Services = append(weighted.Services, weightedChild{Name: service, Weight: 1})
		names = append(names, service)
	}
	h.Services[WeightedService(app.name)] = &serviceConfig{Weighted: weighted}

	options := app.options
	options.Members = names
	options.StickyCookie = weighted.Sticky.Cookie.Name
	middleware := AffinityMiddleware(app.name)
	h.Middlewares[middleware] = &middlewareConfig{Plugin: map[string]*affinityConfig{middlewarePlugin: &options}}

	if app.router != nil {
		r := &routerConfig{
			EntryPoints: app.router.EntryPoints,
			Service:     WeightedService(app.name),
			Rule:        app.router.Rule,
			Priority:    app.router.Priority,
		}
		r.Middlewares = append(r.Middlewares, app.router.Middlewares...)
		r.Middlewares = append(r.Middlewares, middleware)
		h.Routers[WeightedService(app.name)] = r
	}
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
