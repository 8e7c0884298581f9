package main

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
)

// stateLB is what migrate takes from a StateLB config.toml. The format assumed is:
//
//	[server]
//	listen = "0.0.0.0:8080"          # or listen_address, address, bind; or port = 8080
//
//	[service_discovery.kubernetes_service]
//	namespace = "commerce"
//	name = "commerce-pos"            # or service, service_name
//	port = "http"                    # or port_name, target_port; a name or a number
//
//	[route]
//	device_affinity_prefixes = ["/api/appId/pos/deviceId", "/api/app/pos/node"]
//	websocket_paths = ["/api/websocket"]  # optional: the Commerce WebSocket, whose device
//	                                      # ID is in the protocol (its STOMP CONNECT frame)
//
// Every other key is listed as not migrated.
type stateLB struct {
	listen    string
	namespace string
	service   string
	port      string
	prefixes  []string
	// websocketPaths are the stateful WebSocket paths that carry the device ID in the
	// protocol: they become stompConnectPaths.
	websocketPaths []string
	unmapped       []string // dotted keys with no equivalent
}

// Accepted spellings of each key, by section.
var (
	listenKeys  = []string{"listen", "listen_address", "address", "bind", "port"}
	serviceKeys = []string{"name", "service", "service_name"}
	portKeys    = []string{"port", "port_name", "target_port"}
)

// readStateLB parses path and checks that it holds what a Traefik configuration needs.
func readStateLB(path string) (*stateLB, error) {
	var doc map[string]any
	if _, err := toml.DecodeFile(path, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	c := &stateLB{}
	server, err1 := table(doc, "server", "server")
	discovery, err2 := table(doc, "service_discovery", "service_discovery")
	kube, err3 := table(discovery, "kubernetes_service", "service_discovery.kubernetes_service")
	route, err4 := table(doc, "route", "route")
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if kube == nil {
		return nil, fmt.Errorf("%s: missing [service_discovery.kubernetes_service] (only Kubernetes discovery is migrated)", path)
	}
	if route == nil {
		return nil, fmt.Errorf("%s: missing [route] with device_affinity_prefixes", path)
	}

	_, listen, err := first(server, listenKeys)
	if err != nil {
		return nil, fmt.Errorf("%s: [server] %w", path, err)
	}
	if listen != "" && !strings.Contains(listen, ":") {
		listen = ":" + listen
	}
	c.listen = listen
	c.namespace, err = required(kube, "namespace", []string{"namespace"})
	if err == nil {
		c.service, err = required(kube, "name", serviceKeys)
	}
	if err == nil {
		c.port, err = required(kube, "port", portKeys)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: [service_discovery.kubernetes_service] %w", path, err)
	}
	if c.prefixes, err = prefixes(route["device_affinity_prefixes"]); err != nil {
		return nil, fmt.Errorf("%s: [route] device_affinity_prefixes: %w", path, err)
	}
	if paths, ok := route["websocket_paths"]; ok {
		if c.websocketPaths, err = prefixes(paths); err != nil {
			return nil, fmt.Errorf("%s: [route] websocket_paths: %w", path, err)
		}
	}

	known := map[string][]string{"server": listenKeys, "service_discovery.kubernetes_service": append([]string{"namespace"}, append(serviceKeys, portKeys...)...), "route": {"device_affinity_prefixes", "websocket_paths"}}
	c.unmapped = unmappedKeys("", doc, known)
	return c, nil
}

// table returns the sub-table name of t, nil when absent, or an error naming the
// section when it is not a table.
func table(t map[string]any, name, section string) (map[string]any, error) {
	v, ok := t[name]
	if !ok {
		return nil, nil
	}
	sub, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("[%s]: want a table, got %T", section, v)
	}
	return sub, nil
}

// first returns the first of keys present in t, with its value as a string.
func first(t map[string]any, keys []string) (string, string, error) {
	for _, key := range keys {
		v, ok := t[key]
		if !ok {
			continue
		}
		switch v := v.(type) {
		case string:
			if v == "" {
				return key, "", fmt.Errorf("%s: empty", key)
			}
			return key, v, nil
		case int64:
			return key, fmt.Sprint(v), nil
		default:
			return key, "", fmt.Errorf("%s: want a string or a number, got %T", key, v)
		}
	}
	return "", "", nil
}

// required is first for a key that must be present; name is its spelling in errors.
func required(t map[string]any, name string, keys []string) (string, error) {
	_, value, err := first(t, keys)
	if err == nil && value == "" {
		err = fmt.Errorf("%s: missing (accepted keys: %s)", name, strings.Join(keys, ", "))
	}
	return value, err
}

// prefixes checks the device-affinity path prefixes.
func prefixes(v any) ([]string, error) {
	list, ok := v.([]any)
	if !ok || len(list) == 0 {
		return nil, fmt.Errorf("want a non-empty list of path prefixes")
	}
	var out []string
	for _, item := range list {
		prefix, ok := item.(string)
		if !ok || !strings.HasPrefix(prefix, "/") {
			return nil, fmt.Errorf("%v: want a path that starts with /", item)
		}
		out = append(out, strings.TrimSuffix(prefix, "/"))
	}
	return out, nil
}

// unmappedKeys lists the dotted keys of t that known does not cover, sorted.
func unmappedKeys(prefix string, t map[string]any, known map[string][]string) []string {
	var out []string
	for key, v := range t {
		path := prefix + key
		if sub, ok := v.(map[string]any); ok {
			out = append(out, unmappedKeys(path+".", sub, known)...)
			continue
		}
		section := strings.TrimSuffix(prefix, ".")
		if !slices.Contains(known[section], key) {
			out = append(out, path)
		}
	}
	sort.Strings(out)
	return out
}
