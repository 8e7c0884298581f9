package stack

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
	dir := filepath.Join(gopath, "src", FloorAlias)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	files := map[string]string{
		"go.mod":       "module floor\n\ngo 1.22\n",
		"floor.go":     floorSource,
		".traefik.yml": "displayName: floor\ntype: middleware\nimport: floor\nsummary: does nothing\ntestData: {a: b}\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}
