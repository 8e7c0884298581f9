package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/storeaffinity/storeaffinity/hashing"
)

// liveMiddleware is a storeaffinity middleware as the running Traefik routes by it:
// read from Traefik's own API, after the provider's health checks and panic threshold.
type liveMiddleware struct {
	Name           string // full name, such as pos-affinity@plugin-storeaffinityprovider
	Provider       string // the provider part of the name, such as plugin-storeaffinityprovider
	Members        []string
	Strategy       string
	StoreIDPattern string
	App            string   // the metrics' app label: the app option, else the name
	Status         string   // Traefik's: enabled, warning or disabled
	Errors         []string // why Traefik disabled the middleware, or warns of it
}

// statusDisabled is Traefik's status of a middleware it could not build: no router
// uses it, so nothing is routed by its members.
const statusDisabled = "disabled"

// maxAnswerBytes bounds an answer of Traefik's API; a larger one is refused.
const maxAnswerBytes = 8 << 20

// apiMiddleware is what Traefik's API tells of a middleware.
type apiMiddleware struct {
	Name     string                    `json:"name"`
	Provider string                    `json:"provider"`
	Status   string                    `json:"status"`
	Error    []string                  `json:"error"`
	Plugin   map[string]map[string]any `json:"plugin"`
}

// apiService is what Traefik's API tells of a service.
type apiService struct {
	LoadBalancer *struct {
		Servers []struct {
			URL string `json:"url"`
		} `json:"servers"`
	} `json:"loadBalancer"`
	ServerStatus map[string]string `json:"serverStatus"`
}

// traefikGet decodes the JSON of a path of Traefik's API at base into v.
func traefikGet(ctx context.Context, base, path string, v any) error {
	body, status, err := getBounded(ctx, strings.TrimSuffix(base, "/")+path)
	if err != nil {
		return fmt.Errorf("--traefik: %w", err)
	}
	if status != "" {
		return fmt.Errorf("--traefik: GET %s: %s (is the API enabled on that address?)", path, status)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("--traefik: GET %s: %w", path, err)
	}
	return nil
}

// getBounded returns the body of a GET of address, within ten seconds, or the status
// (printable) of an answer other than 200 OK. A body larger than maxAnswerBytes is an
// error; errors name the address, as net/http's do.
func getBounded(ctx context.Context, address string) (body []byte, status string, err error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, address, nil)
	if err != nil {
		return nil, "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return nil, printable(resp.Status), nil
	}
	body, err = io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes+1))
	if err != nil {
		return nil, "", fmt.Errorf("GET %s: %w", address, err)
	}
	if len(body) > maxAnswerBytes {
		return nil, "", fmt.Errorf("GET %s: the answer is larger than %d MiB", address, maxAnswerBytes>>20)
	}
	return body, "", nil
}

// liveMiddlewares returns the storeaffinity middlewares of the Traefik at base: the
// plugin middlewares whose options hold members and stickyCookie, sorted by name, less
// the one that serves the metrics (serveMetrics), which routes nothing.
func liveMiddlewares(ctx context.Context, base string) ([]liveMiddleware, error) {
	var all []apiMiddleware
	if err := traefikGet(ctx, base, "/api/http/middlewares?per_page=10000", &all); err != nil {
		return nil, err
	}
	var out []liveMiddleware
	for _, m := range all {
		for _, options := range m.Plugin {
			if _, ok := options["stickyCookie"]; !ok || options["serveMetrics"] == true {
				continue
			}
			live := liveMiddleware{Name: m.Name, Provider: m.Provider, Strategy: hashing.StrategyRendezvous, Status: m.Status, Errors: m.Error}
			if _, provider, found := strings.Cut(m.Name, "@"); found {
				live.Provider = provider
			}
			live.Members = listOption(options["members"])
			if s, _ := options["strategy"].(string); s != "" {
				live.Strategy = s
			}
			live.StoreIDPattern, _ = options["storeIdPattern"].(string)
			if live.App, _ = options["app"].(string); live.App == "" {
				live.App = m.Name
			}
			out = append(out, live)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// listOption reads a list option as Traefik's API shows it: a list, or a
// comma-separated string.
func listOption(v any) []string {
	var out []string
	switch v := v.(type) {
	case []any:
		for _, item := range v {
			out = append(out, fmt.Sprint(item))
		}
	case string:
		for _, item := range strings.Split(v, ",") {
			if item = strings.TrimSpace(item); item != "" {
				out = append(out, item)
			}
		}
	}
	sort.Strings(out)
	return out
}

// oneLiveMiddleware returns the middleware called name, or the only one when name is
// empty, naming the choices when there are several.
func oneLiveMiddleware(ctx context.Context, base, name string) (liveMiddleware, error) {
	all, err := liveMiddlewares(ctx, base)
	if err != nil {
		return liveMiddleware{}, err
	}
	var names []string
	for _, m := range all {
		if m.Name == name || name == "" && len(all) == 1 {
			return m, nil
		}
		names = append(names, printable(m.Name))
	}
	if name == "" {
		if len(all) == 0 {
			return liveMiddleware{}, fmt.Errorf("--traefik %s: no storeaffinity middleware", base)
		}
		return liveMiddleware{}, fmt.Errorf("--middleware: %d storeaffinity middlewares, name one of %s", len(all), strings.Join(names, ", "))
	}
	return liveMiddleware{}, fmt.Errorf("--middleware: %q is not one of %s", name, strings.Join(names, ", "))
}

// disabled returns an error naming m and Traefik's errors when Traefik has disabled
// m, and so routes nothing through it; nil otherwise.
func (m liveMiddleware) disabled() error {
	if m.Status != statusDisabled {
		return nil
	}
	reason := "Traefik gives no error"
	if len(m.Errors) > 0 {
		reason = printable(strings.Join(m.Errors, "; "))
	}
	return fmt.Errorf("--traefik: middleware %s is disabled, so Traefik routes nothing through it: %s", printable(m.Name), reason)
}

// liveService returns a member's child service as Traefik routes it: its servers and
// their status.
func liveService(ctx context.Context, base, name string) (apiService, error) {
	var s apiService
	err := traefikGet(ctx, base, "/api/http/services/"+url.PathEscape(name), &s)
	return s, err
}
