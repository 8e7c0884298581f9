package stack_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/storeaffinity/storeaffinity/demo/harness/fleet"
	"github.com/storeaffinity/storeaffinity/demo/harness/stack"
)

// noopPlugin is a local middleware plugin that only calls next.
var noopPlugin = map[string]string{
	".traefik.yml": "displayName: Noop\ntype: middleware\nimport: example.com/noop\nsummary: calls next\ntestData:\n  header: X-Noop\n",
	"go.mod":       "module example.com/noop\n\ngo 1.22\n",
	"noop.go": `package noop

import (
	"context"
	"net/http"
)

type Config struct{ Header string }

func CreateConfig() *Config { return &Config{} }

func New(ctx context.Context, next http.Handler, config *Config, name string) (http.Handler, error) {
	return http.HandlerFunc(func(rw http.ResponseWriter, req *http.Request) {
		rw.Header().Set(config.Header, name)
		next.ServeHTTP(rw, req)
	}), nil
}
`,
}

func installNoop(dir string) error {
	src := filepath.Join(dir, "plugins-local", "src", "example.com", "noop")
	if err := os.MkdirAll(src, 0o755); err != nil {
		return err
	}
	for name, body := range noopPlugin {
		if err := os.WriteFile(filepath.Join(src, name), []byte(body), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func TestTraefikServesThroughLocalPluginAndStops(t *testing.T) {
	replicas, err := stack.StartReplicas("pos-0", "pos-1")
	if err != nil {
		t.Fatal(err)
	}
	defer replicas.Close()
	var servers []map[string]any
	for _, r := range replicas {
		servers = append(servers, map[string]any{"url": r.URL()})
	}
	ctx := context.Background()
	traefik, err := stack.StartTraefik(ctx, stack.TraefikOptions{
		Dir:          t.TempDir(),
		Plugins:      installNoop,
		LocalPlugins: map[string]string{"noop": "example.com/noop"},
		Dynamic: map[string]any{"http": map[string]any{
			"routers":     map[string]any{"all": map[string]any{"rule": "PathPrefix(`/`)", "service": "pos", "middlewares": []string{"noop"}, "entryPoints": []string{"web"}}},
			"services":    map[string]any{"pos": map[string]any{"loadBalancer": map[string]any{"servers": servers}}},
			"middlewares": map[string]any{"noop": map[string]any{"plugin": map[string]any{"noop": map[string]any{"header": "X-Noop"}}}},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer traefik.Stop()
	if err := traefik.API.WaitEnabled(ctx, stack.Routers, "all@file"); err != nil {
		t.Fatalf("%v\n%s", err, traefik.Trouble())
	}
	client := fleet.NewClient(traefik.WebURL)
	seen := map[string]int{}
	for i := 0; i < 20; i++ {
		resp, err := client.Get(ctx, "/api/catalog")
		if err != nil {
			t.Fatal(err)
		}
		if resp.Header.Get("X-Noop") != "noop@file" {
			t.Fatalf("plugin header %q, want noop@file", resp.Header.Get("X-Noop"))
		}
		seen[resp.Reply.Replica]++
	}
	if len(seen) != 2 {
		t.Errorf("replicas seen %v, want both", seen)
	}
	traefik.Stop()
	if !traefik.Exited() {
		t.Fatal("traefik still running after Stop")
	}
}
