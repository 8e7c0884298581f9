package stack

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"
)

// API reads Traefik's JSON API (api.insecure).
type API struct {
	BaseURL string
	client  *http.Client
}

// NewAPI returns a client of the API at baseURL.
func NewAPI(baseURL string) *API {
	return &API{BaseURL: baseURL, client: &http.Client{Timeout: 5 * time.Second}}
}

// Object is one router, service or middleware as the API shows it.
type Object struct {
	Name     string         `json:"name"`
	Status   string         `json:"status"`
	Provider string         `json:"provider"`
	Type     string         `json:"type"`
	Error    []string       `json:"error"`
	Plugin   map[string]any `json:"plugin"`
	Weighted *struct {
		Services []struct {
			Name string `json:"name"`
		} `json:"services"`
	} `json:"weighted"`
}

// Kinds of object, as the API paths name them.
const (
	Routers     = "routers"
	Services    = "services"
	Middlewares = "middlewares"
)

// Version returns Traefik's version as the API reports it.
func (a *API) Version(ctx context.Context) (string, error) {
	var v struct {
		Version string `json:"Version"`
	}
	err := a.get(ctx, "/api/version", &v)
	return v.Version, err
}

// EntryPointAddress returns the address of an entry point, as the API reports it.
func (a *API) EntryPointAddress(ctx context.Context, name string) (string, error) {
	var e struct {
		Address string `json:"address"`
	}
	err := a.get(ctx, "/api/entrypoints/"+url.PathEscape(name), &e)
	return e.Address, err
}

// Get returns the HTTP object of a kind (Routers, Services, Middlewares) by its full
// name, such as "pos@plugin-storeaffinityprovider".
func (a *API) Get(ctx context.Context, kind, name string) (Object, error) {
	var o Object
	err := a.get(ctx, "/api/http/"+kind+"/"+url.PathEscape(name), &o)
	return o, err
}

// Members returns the member list of a storeaffinity middleware, sorted.
func (a *API) Members(ctx context.Context, middleware string) ([]string, error) {
	o, err := a.Get(ctx, Middlewares, middleware)
	if err != nil {
		return nil, err
	}
	settings, _ := o.Plugin[MiddlewareAlias].(map[string]any)
	var members []string
	switch v := settings["members"].(type) {
	case []any:
		for _, m := range v {
			members = append(members, fmt.Sprint(m))
		}
	case string:
		for _, m := range strings.Split(v, ",") {
			members = append(members, strings.TrimSpace(m))
		}
	}
	sort.Strings(members)
	return members, nil
}

// WaitEnabled waits until every named object of kind exists with status "enabled".
func (a *API) WaitEnabled(ctx context.Context, kind string, names ...string) error {
	return Poll(ctx, 30*time.Second, func(ctx context.Context) error {
		for _, name := range names {
			o, err := a.Get(ctx, kind, name)
			if err != nil {
				return err
			}
			if o.Status != "enabled" {
				return fmt.Errorf("%s %s is %q: %v", kind, name, o.Status, o.Error)
			}
		}
		return nil
	})
}

// WaitMembers waits until the middleware's member list is want (in any order).
func (a *API) WaitMembers(ctx context.Context, middleware string, want []string) error {
	want = slices.Sorted(slices.Values(want))
	return Poll(ctx, 30*time.Second, func(ctx context.Context) error {
		got, err := a.Members(ctx, middleware)
		if err != nil {
			return err
		}
		if !slices.Equal(got, want) {
			return fmt.Errorf("middleware %s has members %v, want %v", middleware, got, want)
		}
		return nil
	})
}

func (a *API) get(ctx context.Context, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.BaseURL+path, nil)
	if err != nil {
		return err
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// Poll calls check every 100 ms until it returns nil, and returns its last error when
// timeout passes or ctx ends first.
func Poll(ctx context.Context, timeout time.Duration, check func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		err := check(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("gave up after %v: %w", timeout, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// AnswersOK sends req with client and returns nil when it is answered 200 OK.
func AnswersOK(client *http.Client, req *http.Request) error {
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", req.URL, resp.Status)
	}
	return nil
}
