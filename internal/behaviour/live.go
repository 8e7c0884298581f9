package behaviour

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// streamWriter is a ResponseWriter that can flush and hijack, like Traefik's.
type streamWriter struct {
	*httptest.ResponseRecorder
}

func (w *streamWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return nil, nil, errors.New("not a connection")
}

func testResponseWriterUnchanged(t *testing.T, build Builder) {
	rec := &recorder{}
	h := mustBuild(t, build, rec, baseConfig(), "writer")
	for _, target := range []string{prefix + "/00123-001/events", "/api/stateless"} {
		rw := &streamWriter{httptest.NewRecorder()}
		h.ServeHTTP(rw, httptest.NewRequest(http.MethodGet, target, nil))
		s := rec.take()
		if s.rw != http.ResponseWriter(rw) {
			t.Errorf("%s: next received %T, not the ResponseWriter it was given", target, s.rw)
		}
		if _, ok := s.rw.(http.Flusher); !ok {
			t.Errorf("%s: next's ResponseWriter %T lost Flush", target, s.rw)
		}
		if _, ok := s.rw.(http.Hijacker); !ok {
			t.Errorf("%s: next's ResponseWriter %T lost Hijack", target, s.rw)
		}
	}
}

// liveRequests holds stateful requests open in a next handler until their context ends.
type liveRequests struct {
	started sync.WaitGroup
	mu      sync.Mutex
	ended   map[string]time.Time // by store
	done    sync.WaitGroup
	cancels []context.CancelFunc
}

func (l *liveRequests) ServeHTTP(rw http.ResponseWriter, req *http.Request) {
	store := strings.TrimPrefix(strings.Split(req.Header.Get("X-Store-Affinity"), ";")[0], "store=")
	l.started.Done()
	<-req.Context().Done()
	l.mu.Lock()
	l.ended[store] = time.Now()
	l.mu.Unlock()
}

// open starts one long-lived request per store through h: WebSocket upgrades and SSE
// streams in turn, the requests whose lives the middleware tracks.
func (l *liveRequests) open(h http.Handler, stores []string) {
	for n, store := range stores {
		ctx, cancel := context.WithCancel(context.Background())
		l.cancels = append(l.cancels, cancel)
		req := httptest.NewRequest(http.MethodGet, prefix+"/"+store+"-001/ws", nil).WithContext(ctx)
		if n%2 == 0 {
			req.Header.Set("Upgrade", "websocket")
		} else {
			req.Header.Set("Accept", "text/event-stream")
		}
		l.started.Add(1)
		l.done.Add(1)
		go func() {
			defer l.done.Done()
			h.ServeHTTP(httptest.NewRecorder(), req)
		}()
	}
	l.started.Wait()
}

func (l *liveRequests) endedAt(store string) (time.Time, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	at, ok := l.ended[store]
	return at, ok
}

func (l *liveRequests) closeAll() {
	for _, cancel := range l.cancels {
		cancel()
	}
	l.done.Wait()
}

// openLive builds the middleware called name from config with rebalanceGrace grace,
// and holds one live request open through it for each of n stores. The caller closes
// them with closeAll.
func openLive(t *testing.T, build Builder, config map[string]any, name, grace string, n int) (*liveRequests, []string) {
	t.Helper()
	live := &liveRequests{ended: map[string]time.Time{}}
	config["rebalanceGrace"] = grace
	h := mustBuild(t, build, live, config, name)
	stores := storeNames(n)
	live.open(h, stores)
	return live, stores
}

func storeNames(n int) []string {
	stores := make([]string, n)
	for i := range stores {
		stores[i] = fmt.Sprintf("%05d", 1000+i)
	}
	return stores
}

func testMovedStoresEnd(t *testing.T, build Builder) {
	const grace = 300 * time.Millisecond
	config := baseConfig()
	live, stores := openLive(t, build, config, "live-move", grace.String(), 60)
	defer live.closeAll()

	scaled := append(append([]string{}, baseMembers...), "pos-3")
	var moved, kept []string
	for _, store := range stores {
		if expectedMember(t, "", baseMembers, store) != expectedMember(t, "", scaled, store) {
			moved = append(moved, store)
		} else {
			kept = append(kept, store)
		}
	}
	if len(moved) == 0 || len(kept) == 0 {
		t.Fatalf("test stores do not exercise both cases: %d moved, %d kept", len(moved), len(kept))
	}

	config["members"] = scaled
	changed := time.Now()
	fresh := &liveRequests{ended: map[string]time.Time{}}
	after := mustBuild(t, build, fresh, config, "live-move")
	// A device that reconnects to the new owner right away is not ended.
	fresh.open(after, moved[:1])
	defer fresh.closeAll()

	deadline := changed.Add(grace + 2*time.Second)
	for _, store := range moved {
		for {
			if at, ok := live.endedAt(store); ok {
				if elapsed := at.Sub(changed); elapsed < grace-20*time.Millisecond {
					t.Errorf("store %s ended %v after the change, before the %v grace", store, elapsed, grace)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("moved store %s still live %v after the change", store, time.Since(changed))
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	time.Sleep(grace)
	for _, store := range kept {
		if at, ok := live.endedAt(store); ok {
			t.Errorf("unmoved store %s was ended %v after the change", store, at.Sub(changed))
		}
	}
	if _, ok := fresh.endedAt(moved[0]); ok {
		t.Errorf("request on the new owner of moved store %s was ended", moved[0])
	}
}

func testGraceOff(t *testing.T, build Builder) {
	config := baseConfig()
	live, stores := openLive(t, build, config, "live-off", "off", 30)
	defer live.closeAll()
	config["members"] = []any{"pos-0", "pos-1", "pos-2", "pos-3"}
	mustBuild(t, build, live, config, "live-off")
	time.Sleep(500 * time.Millisecond)
	for _, store := range stores {
		if _, ok := live.endedAt(store); ok {
			t.Errorf("store %s was ended although rebalanceGrace is off", store)
		}
	}
}

func testPanicReleasesStore(t *testing.T, build Builder, liveStores LiveStoresFunc) {
	const name = "panic-release"
	h := mustBuild(t, build, panicking{}, baseConfig(), name)
	for _, store := range storeNames(5) {
		req := httptest.NewRequest(http.MethodGet, prefix+"/"+store+"-001/events", nil)
		req.Header.Set("Accept", "text/event-stream")
		func() {
			defer func() { _ = recover() }()
			h.ServeHTTP(httptest.NewRecorder(), req)
		}()
	}
	if n := liveStores(name); n != 0 {
		t.Errorf("5 live requests whose next panicked left %d stores tracked, want 0", n)
	}
}
