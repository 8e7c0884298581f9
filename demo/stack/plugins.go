package stack

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// PluginModule is the Go module path of both plugins.
const PluginModule = "github.com/storeaffinity/storeaffinity"

// Plugin aliases and module names, as the static configuration names them.
const (
	MiddlewareAlias  = "storeaffinity"
	ProviderAlias    = "storeaffinityprovider"
	ProviderModule   = PluginModule + "/provider"
	ProviderObjectAt = "@plugin-" + ProviderAlias
)

// InstallPlugins copies the plugin module's interpreted sources (Go files other than
// tests, go.mod and the .traefik.yml manifests) from the repository into
// <workDir>/plugins-local/src/<module>, where Traefik looks for local plugins. Nested
// modules (demo, e2e) and hidden folders are left out.
func InstallPlugins(workDir string) error {
	root := RepoRoot()
	dst := filepath.Join(workDir, "plugins-local", "src", filepath.FromSlash(PluginModule))
	return filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path == root {
				return nil
			}
			if strings.HasPrefix(name, ".") || name == "testdata" || exists(filepath.Join(path, "go.mod")) {
				return filepath.SkipDir
			}
			return nil
		}
		keep := name == ".traefik.yml" || name == "go.mod" ||
			(strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go"))
		if !keep {
			return nil
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		return copyFile(path, filepath.Join(dst, rel))
	})
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func copyFile(src, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("copy plugin source: %w", err)
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return fmt.Errorf("copy plugin source: %w", err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copy plugin source %s: %w", src, err)
	}
	return out.Close()
}
