package kubernetes

import (
	"os"
	"testing"

	"github.com/storeaffinity/storeaffinity/demo/harness/kubeapi"
)

func TestMain(m *testing.M) {
	code := m.Run()
	kubeapi.StopShared()
	os.Exit(code)
}
