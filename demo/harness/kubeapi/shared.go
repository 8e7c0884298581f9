package kubeapi

import (
	"sync"
	"testing"
)

var shared struct {
	once   sync.Once
	server *Server
	err    error
}

// Shared returns one API server for the whole test binary, started on first use. The
// test binary's TestMain calls StopShared after m.Run.
func Shared(tb testing.TB) *Server {
	tb.Helper()
	shared.once.Do(func() { shared.server, shared.err = Start() })
	if shared.err != nil {
		tb.Fatalf("start kube-apiserver: %v", shared.err)
	}
	return shared.server
}

// StopShared stops the shared API server, if it was started.
func StopShared() {
	if shared.server != nil {
		shared.server.Stop()
	}
}
