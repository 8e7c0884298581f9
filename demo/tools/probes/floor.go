// Package probes holds the reference middlewares the benchmarks measure ours against:
// the do-nothing plugin (the floor) and the least store-routing middleware.
package probes

import (
	"os"
	"path/filepath"
)

// FloorAlias is the plugin alias and module name of the do-nothing middleware.
const FloorAlias = "floor"

// floorSource is an interpreted middleware that only calls next: what any Yaegi
// middleware costs, the floor benchmarks compare with.
const floorSource = `package floor

import (
	"context"
	"net/http"
)

// Config is empty.
type Config struct{}

// CreateConfig returns the empty configuration.
func CreateConfig() *Config { return &Config{} }

type floor struct{ next http.Handler }

// New returns the do-nothing middleware.
func New(ctx context.Context, next http.Handler, config *Config, name string) (http.Handler, error) {
	return &floor{next: next}, nil
}

func (f *floor) ServeHTTP(rw http.ResponseWriter, req *http.Request) { f.next.ServeHTTP(rw, req) }
`

// InstallFloorPlugin lays out the do-nothing middleware as the local plugin "floor"
// in gopath/src/floor, with its manifest, beside the plugins UnpackPlugins lays out.
func InstallFloorPlugin(gopath string) error {
	return installLocalPlugin(gopath, FloorAlias, floorSource)
}

// installLocalPlugin lays out a one-file middleware module called name, with its
// manifest, in gopath/src/name.
func installLocalPlugin(gopath, name, source string) error {
	dir := filepath.Join(gopath, "src", name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	files := map[string]string{
		"go.mod":       "module " + name + "\n\ngo 1.22\n",
		name + ".go":   source,
		".traefik.yml": "displayName: " + name + "\ntype: middleware\nimport: " + name + "\nsummary: a benchmark's reference\ntestData: {a: b}\n",
	}
	for file, content := range files {
		if err := os.WriteFile(filepath.Join(dir, file), []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}
