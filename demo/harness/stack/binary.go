// Package stack runs the pieces of an end-to-end setup on loopback: a real Traefik
// process with both plugins loaded as local plugins, demo Commerce replicas, and the
// helpers that wait for Traefik's JSON API to show the expected configuration.
//
// The end-to-end tests and the one-command demo both use it.
package stack

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
)

// Version returns a version from scripts/versions, the one file that names the
// versions of the components the project is tested against (TRAEFIK_VERSION, ...).
func Version(name string) string {
	data, err := os.ReadFile(filepath.Join(RepoRoot(), "scripts", "versions"))
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(data), "\n") {
		if value, ok := strings.CutPrefix(strings.TrimSpace(line), name+"="); ok {
			return value
		}
	}
	return ""
}

// TraefikVersion is the Traefik release the project is tested against.
func TraefikVersion() string { return Version("TRAEFIK_VERSION") }

// RepoRoot returns the repository root, found from this source file's location.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", "..", ".."))
}

var binary struct {
	once sync.Once
	path string
	err  error
}

// TraefikBinary returns the path of the cached Traefik binary, building it on first use
// with scripts/install-traefik.sh (about 10 minutes cold). TRAEFIK_BINARY overrides it;
// STOREAFFINITY_CACHE selects the cache folder (default <repo>/.cache).
func TraefikBinary() (string, error) {
	binary.once.Do(func() {
		if path := os.Getenv("TRAEFIK_BINARY"); path != "" {
			binary.path = path
			return
		}
		binary.path, binary.err = InstallTool("install-traefik.sh")
	})
	return binary.path, binary.err
}

// InstallTool runs one of the install scripts (scripts/install-traefik.sh,
// install-kube.sh, install-helm.sh), which builds its tool into the cache
// ($STOREAFFINITY_CACHE, default <repo>/.cache) on first use, and returns the path
// the script prints last.
func InstallTool(script string) (string, error) {
	args := []string{filepath.Join(RepoRoot(), "scripts", script)}
	if cache := os.Getenv("STOREAFFINITY_CACHE"); cache != "" {
		args = append(args, cache)
	}
	cmd := exec.Command("bash", args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%s: %w", script, err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return lines[len(lines)-1], nil
}
