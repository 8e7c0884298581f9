package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/storeaffinity/storeaffinity/demo/harness/stack"
)

// The middleware without its counting for the metrics, as another local plugin: the
// -nometrics chains run it, so that the bench shows what the counting costs.
const (
	noMetricsAlias  = "storeaffinitynometrics"
	noMetricsModule = "github.com/storeaffinity/storeaffinity-nometrics"
)

// countingStatements are the lines the copy leaves out.
var countingStatements = []string{"atomic.AddUint64(r.requests, 1)", "atomic.AddUint64(a.stateless[i], 1)"}

// installNoMetricsPlugin copies the middleware's package, as UnpackPlugins laid it
// out below gopath, into the module noMetricsModule beside it: without the lines that
// hold a counting statement, and without the "sync/atomic" import in files that no
// longer use it. Its imports of the middleware's packages (hashing) resolve to the
// real plugin's tree.
func installNoMetricsPlugin(gopath string) error {
	src, dst := stack.PluginDir(gopath, stack.MiddlewareModule), stack.PluginDir(gopath, noMetricsModule)
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	files, err := filepath.Glob(filepath.Join(src, "*.go"))
	if err != nil {
		return err
	}
	removed := map[string]int{}
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		data, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		var kept []string
	lines:
		for _, line := range strings.Split(string(data), "\n") {
			for _, s := range countingStatements {
				if strings.Contains(line, s) {
					removed[s]++
					continue lines
				}
			}
			kept = append(kept, line)
		}
		text := strings.Join(kept, "\n")
		if !strings.Contains(text, "atomic.") {
			text = strings.Replace(text, "\t\"sync/atomic\"\n", "", 1)
		}
		if err := os.WriteFile(filepath.Join(dst, filepath.Base(file)), []byte(text), 0o644); err != nil {
			return err
		}
	}
	for _, s := range countingStatements {
		if removed[s] == 0 {
			return fmt.Errorf("no line of %s holds %s: the chains without metrics would run the same middleware", src, s)
		}
	}
	manifest, err := os.ReadFile(filepath.Join(src, ".traefik.yml"))
	if err != nil {
		return err
	}
	imports := "\nimport: " + stack.MiddlewareModule + "\n"
	if !strings.Contains(string(manifest), imports) {
		return fmt.Errorf("%s/.traefik.yml: no %q", src, strings.TrimSpace(imports))
	}
	manifest = []byte(strings.Replace(string(manifest), imports, "\nimport: "+noMetricsModule+"\nbasePkg: storeaffinity\n", 1))
	if err := os.WriteFile(filepath.Join(dst, ".traefik.yml"), manifest, 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dst, "go.mod"), []byte("module "+noMetricsModule+"\n\ngo 1.22\n"), 0o644)
}
