package provider

import (
	"os"
	"sync"
	"testing"

	"github.com/storeaffinity/storeaffinity/e2e/kubeapi"
)

var (
	kubeOnce   sync.Once
	kubeServer *kubeapi.Server
	kubeErr    error
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

func TestMain(m *testing.M) {
	code := m.Run()
	if kubeServer != nil {
		kubeServer.Stop()
	}
	os.Exit(code)
}
