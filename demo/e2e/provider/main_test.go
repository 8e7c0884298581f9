package provider

import (
	"os"
	"testing"

	"github.com/storeaffinity/storeaffinity/demo/harness/kubeapi"
)

// kube returns the API server shared by this package's tests.
func kube(t testing.TB) *kubeapi.Server { return kubeapi.Shared(t) }

func TestMain(m *testing.M) {
	code := m.Run()
	kubeapi.StopShared()
	os.Exit(code)
}
