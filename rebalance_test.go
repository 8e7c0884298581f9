package storeaffinity

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
)

func trackedStores(name string) int {
	liveMu.Lock()
	ls := liveByName[name]
	liveMu.Unlock()
	ls.mu.Lock()
	defer ls.mu.Unlock()
	return len(ls.lives)
}

func newTestAffinity(t *testing.T, next http.Handler, name string) http.Handler {
	t.Helper()
	config := CreateConfig()
	config.DeviceAffinityPrefixes = []string{"/api/appId/pos/deviceId"}
	config.Members = []string{"pos-0", "pos-1", "pos-2"}
	config.StickyCookie = "pos_affinity"
	h, err := New(context.Background(), next, config, name)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestStoresAreTrackedOnlyWhileLive: REST calls of invented devices add nothing, a live
// stream is tracked until it ends, and a stream whose proxy panics (a cut SSE stream)
// is released all the same.
func TestStoresAreTrackedOnlyWhileLive(t *testing.T) {
	ok := http.HandlerFunc(func(rw http.ResponseWriter, req *http.Request) {})
	h := newTestAffinity(t, ok, "tracked-rest")
	for i := 0; i < 5000; i++ {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, fmt.Sprintf("/api/appId/pos/deviceId/%06d-001", i), nil))
	}
	if n := trackedStores("tracked-rest"); n != 0 {
		t.Errorf("5000 REST calls left %d stores tracked, want 0", n)
	}

	entered, leave := make(chan struct{}), make(chan struct{})
	holding := http.HandlerFunc(func(rw http.ResponseWriter, req *http.Request) {
		entered <- struct{}{}
		<-leave
	})
	h = newTestAffinity(t, holding, "tracked-live")
	done := make(chan struct{})
	go func() {
		defer close(done)
		req := httptest.NewRequest(http.MethodGet, "/api/appId/pos/deviceId/00123-001/events", nil)
		req.Header.Set("Accept", "text/event-stream")
		h.ServeHTTP(httptest.NewRecorder(), req)
	}()
	<-entered
	if n := trackedStores("tracked-live"); n != 1 {
		t.Errorf("one live stream: %d stores tracked, want 1", n)
	}
	close(leave)
	<-done
	if n := trackedStores("tracked-live"); n != 0 {
		t.Errorf("after the stream ended: %d stores tracked, want 0", n)
	}

	cut := http.HandlerFunc(func(rw http.ResponseWriter, req *http.Request) { panic(http.ErrAbortHandler) })
	h = newTestAffinity(t, cut, "tracked-cut")
	for i := 0; i < 1000; i++ {
		req := httptest.NewRequest(http.MethodGet, fmt.Sprintf("/api/appId/pos/deviceId/%05d-001/events", i), nil)
		req.Header.Set("Accept", "text/event-stream")
		func() {
			defer func() { _ = recover() }()
			h.ServeHTTP(httptest.NewRecorder(), req)
		}()
	}
	if n := trackedStores("tracked-cut"); n != 0 {
		t.Errorf("1000 cut streams left %d stores tracked, want 0", n)
	}
}
