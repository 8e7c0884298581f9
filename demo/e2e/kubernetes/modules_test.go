package kubernetes

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/storeaffinity/storeaffinity/demo/harness/stack"
)

// Modules the test reads from the Go module proxy: the official chart and the Gateway
// API CRDs that Traefik v3.6.12 is built on.
const (
	chartModule      = "github.com/traefik/traefik-helm-chart@v41.6.0+incompatible"
	gatewayAPIModule = "sigs.k8s.io/gateway-api@v1.4.0"
	// kubeVersion is what helm renders for; without it helm assumes 1.20 and the chart
	// refuses to render.
	kubeVersion = "1.34.0"
)

// moduleDir downloads module@version through the Go module proxy and returns its folder.
func moduleDir(t *testing.T, module string) string {
	t.Helper()
	cmd := exec.Command("go", "mod", "download", "-json", module)
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
	cmd.Dir = t.TempDir()
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go mod download %s: %v\n%s", module, err, out)
	}
	var info struct{ Dir, Error string }
	if err := json.Unmarshal(out, &info); err != nil || info.Dir == "" {
		t.Fatalf("go mod download %s: %v %s", module, err, info.Error)
	}
	return info.Dir
}

// helmBinary returns helm, built into the cache by scripts/install-helm.sh on first use.
func helmBinary(t *testing.T) string {
	t.Helper()
	path, err := stack.InstallTool("install-helm.sh")
	if err != nil {
		t.Fatalf("install helm %s: %v", stack.Version("HELM_VERSION"), err)
	}
	return path
}

// k8sDir is the folder of the manifests and values under test.
func k8sDir() string { return filepath.Join(stack.RepoRoot(), "demo", "k8s") }

// yamlFiles returns the .yaml files of dir, sorted, failing when there are none.
func yamlFiles(t *testing.T, dir string, skip ...string) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no YAML files in %s: %v", dir, err)
	}
	var out []string
	for _, p := range paths {
		if !slices.Contains(skip, filepath.Base(p)) {
			out = append(out, p)
		}
	}
	return out
}
