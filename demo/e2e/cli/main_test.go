package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/storeaffinity/storeaffinity/demo/harness/kubeapi"
	"github.com/storeaffinity/storeaffinity/demo/harness/stack"
)

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
	buildDir  string
)

// kube returns the API server shared by this package's tests.
func kube(t testing.TB) *kubeapi.Server { return kubeapi.Shared(t) }

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
		cmd.Dir = filepath.Join(stack.RepoRoot(), "cmd", "storeaffinity")
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
	kubeapi.StopShared()
	if buildDir != "" {
		_ = os.RemoveAll(buildDir)
	}
	os.Exit(code)
}
