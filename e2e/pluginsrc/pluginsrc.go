// Package pluginsrc lays out the plugin sources the way Traefik and Yaegi read them: a
// GOPATH whose src/<module> folder holds the interpreted packages of this repository.
package pluginsrc

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// Module is the Go module path of the plugins.
const Module = "github.com/storeaffinity/storeaffinity"

// interpretedDirs are the folders, relative to the repository root, that Traefik interprets.
var interpretedDirs = []string{".", "hashing", "provider"}

// RepoRoot returns the repository root, found from this source file's location.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// Install copies the interpreted sources (no tests) with go.mod and the manifests into
// gopath/src/<Module> and returns that folder. Traefik's plugins-local folder is such a
// GOPATH, as is the one a Yaegi interpreter is given.
func Install(gopath string) (string, error) {
	root := RepoRoot()
	dst := filepath.Join(gopath, "src", filepath.FromSlash(Module))
	for _, dir := range interpretedDirs {
		entries, err := os.ReadDir(filepath.Join(root, dir))
		if err != nil {
			return "", fmt.Errorf("read plugin sources: %w", err)
		}
		for _, e := range entries {
			name := e.Name()
			keep := name == ".traefik.yml" || name == "go.mod" ||
				(strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go"))
			if e.IsDir() || !keep {
				continue
			}
			if err := copyFile(filepath.Join(root, dir, name), filepath.Join(dst, dir, name)); err != nil {
				return "", err
			}
		}
	}
	return dst, nil
}

func copyFile(src, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
