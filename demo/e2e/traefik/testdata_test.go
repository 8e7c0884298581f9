package traefik

import (
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/storeaffinity/storeaffinity/demo/harness/fleet"
	"github.com/storeaffinity/storeaffinity/demo/harness/stack"
)

// manifestTestData reads the testData of a plugin manifest.
func manifestTestData(t *testing.T, dir string) map[string]any {
	t.Helper()
	body, err := os.ReadFile(filepath.Join(stack.RepoRoot(), dir, ".traefik.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var manifest struct {
		TestData map[string]any `yaml:"testData"`
	}
	if err := yaml.Unmarshal(body, &manifest); err != nil {
		t.Fatal(err)
	}
	if len(manifest.TestData) == 0 {
		t.Fatalf("%s/.traefik.yml has no testData", dir)
	}
	return manifest.TestData
}

// TestMiddlewareTestDataLoads configures the middleware with its manifest's testData,
// in front of a weighted service whose children are named as its members, and routes
// stateful requests by path, header and query parameter.
func TestMiddlewareTestDataLoads(t *testing.T) {
	testData := manifestTestData(t, ".")
	var names []string
	for _, m := range testData["members"].([]any) {
		names = append(names, m.(string))
	}
	replicas, err := stack.StartReplicas(names...)
	if err != nil {
		t.Fatal(err)
	}
	defer replicas.Close()
	services := map[string]any{}
	var children []map[string]any
	for _, r := range replicas {
		services[r.Name()] = map[string]any{"loadBalancer": map[string]any{"servers": []map[string]any{{"url": r.URL()}}}}
		children = append(children, map[string]any{"name": r.Name()})
	}
	services["pos"] = map[string]any{"weighted": map[string]any{
		"services": children,
		"sticky":   map[string]any{"cookie": map[string]any{"name": testData["stickyCookie"], "httpOnly": true}},
	}}
	traefik := stack.TraefikForTest(t, stack.TraefikOptions{
		Plugins: installPlugins,
		Dynamic: map[string]any{"http": map[string]any{
			"routers":     map[string]any{"pos": map[string]any{"rule": "PathPrefix(`/`)", "service": "pos", "middlewares": []string{"testdata"}, "entryPoints": []string{"web"}}},
			"services":    services,
			"middlewares": map[string]any{"testdata": map[string]any{"plugin": map[string]any{stack.MiddlewareAlias: testData}}},
		}},
	})
	if err := traefik.API.WaitEnabled(t.Context(), stack.Middlewares, "testdata@file"); err != nil {
		t.Fatalf("%v\n%s", err, traefik.Trouble())
	}
	if err := traefik.API.WaitEnabled(t.Context(), stack.Routers, "pos@file"); err != nil {
		t.Fatalf("%v\n%s", err, traefik.Trouble())
	}
	client := fleet.NewClient(traefik.WebURL)
	requests := []struct {
		name   string
		path   string
		header string
	}{
		{"device ID in the path", "/api/appId/pos/deviceId/00123-001/ticket", ""},
		{"device ID in the header", "/api/catalog", "00123-002"},
		{"device ID in the query", "/api/catalog?deviceId=00123-003", ""},
	}
	var first string
	for _, r := range requests {
		c := *client
		if r.header != "" {
			c.Header = http.Header{"X-Device-Id": {r.header}}
		}
		resp, err := c.Get(t.Context(), r.path)
		if err != nil {
			t.Fatal(err)
		}
		if resp.Status != http.StatusOK || !slices.Contains(names, resp.Reply.Replica) {
			t.Fatalf("%s: status %d, replica %q: %s", r.name, resp.Status, resp.Reply.Replica, resp.Body)
		}
		if got := resp.Header.Get("X-Store-Affinity"); got != affinity("00123", resp.Reply.Replica) {
			t.Errorf("%s: X-Store-Affinity %q, reached %s", r.name, got, resp.Reply.Replica)
		}
		if first == "" {
			first = resp.Reply.Replica
		} else if resp.Reply.Replica != first {
			t.Errorf("%s reached %s, the store's first request reached %s", r.name, resp.Reply.Replica, first)
		}
	}
}

// TestProviderTestDataLoads starts Traefik with the provider configured by its
// manifest's testData and waits for the emitted router, service and middleware.
func TestProviderTestDataLoads(t *testing.T) {
	testData := manifestTestData(t, "provider")
	traefik := stack.TraefikForTest(t, stack.TraefikOptions{Plugins: installPlugins, Provider: testData})
	router, service, middleware := stack.Objects("pos")
	for kind, name := range map[string]string{stack.Routers: router, stack.Services: service, stack.Middlewares: middleware} {
		if err := traefik.API.WaitEnabled(t.Context(), kind, name); err != nil {
			t.Fatalf("%v\n%s", err, traefik.Trouble())
		}
	}
	// Every static server of the testData is a member, named <app>-<server name>.
	var want []string
	for _, app := range testData["apps"].([]any) {
		app := app.(map[string]any)
		for _, server := range app["static"].(map[string]any)["servers"].([]any) {
			name, _, _ := strings.Cut(server.(string), "=")
			want = append(want, app["name"].(string)+"-"+name)
		}
	}
	sort.Strings(want)
	got, err := traefik.API.Members(t.Context(), middleware)
	if err != nil || strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("middleware members %v (%v), want the testData's servers %v", got, err, want)
	}
	t.Logf("members from the provider's testData: %v", got)
}
