package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/storeaffinity/storeaffinity/e2e/kubeapi"
	"github.com/storeaffinity/storeaffinity/e2e/pluginsrc"
)

var (
	kubeOnce   sync.Once
	kubeServer *kubeapi.Server
	kubeErr    error

	buildOnce sync.Once
	binary    string
	buildErr  error
	buildDir  string
)

// kube returns the shared API server, started on first use.
func kube(t testing.TB) *kubeapi.Server {
	t.Helper()
	kubeOnce.Do(func() { kubeServer, kubeErr = kubeapi.Start() })
	if kubeErr != nil {
		t.Fatalf("start kube-apiserver: %v", kubeErr)
	}
	return kubeServer
}

// cliBinary builds cmd/storeaffinity once and returns the binary's path.
func cliBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "storeaffinity-cli-")
		if buildErr != nil {
			return
		}
		binary = filepath.Join(buildDir, "storeaffinity")
		cmd := exec.Command("go", "build", "-o", binary, ".")
		cmd.Dir = filepath.Join(pluginsrc.RepoRoot(), "cmd", "storeaffinity")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = &buildError{err: err, output: string(out)}
		}
	})
	if buildErr != nil {
		t.Fatalf("build storeaffinity: %v", buildErr)
	}
	return binary
}

type buildError struct {
	err    error
	output string
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + e.output }

func TestMain(m *testing.M) {
	code := m.Run()
	if kubeServer != nil {
		kubeServer.Stop()
	}
	if buildDir != "" {
		_ = os.RemoveAll(buildDir)
	}
	os.Exit(code)
}
