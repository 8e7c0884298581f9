package storeaffinity

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestOneLogLinePerChange holds live requests of 60 stores open, changes the members
// twice, and reads the middleware's standard output, which Traefik logs: one line per
// change, with the members added and removed, the moved stores and when they end.
func TestOneLogLinePerChange(t *testing.T) {
	liveMu.Lock()
	delete(liveByName, "log-change") // a run before this one (-count) leaves its members
	liveMu.Unlock()
	log := &lockedBuffer{}
	release := make(chan struct{})
	next := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-release })
	config := CreateConfig()
	config.DeviceAffinityPrefixes = []string{"/api/appId/pos/deviceId"}
	config.Members = []string{"pos-0", "pos-1", "pos-2"}
	config.StickyCookie = "pos_affinity"
	config.RebalanceGrace = "1s"
	h, err := New(context.Background(), next, config, "log-change")
	if err != nil {
		t.Fatal(err)
	}
	ls := liveByName["log-change"]
	ls.mu.Lock()
	ls.log = log
	ls.mu.Unlock()
	done := make(chan struct{})
	for i := 0; i < 60; i++ {
		req := httptest.NewRequest(http.MethodGet, "/api/appId/pos/deviceId/"+strings.Repeat("0", 3)+string(rune('a'+i%26))+string(rune('a'+i/26))+"-001/ws", nil)
		req.Header.Set("Upgrade", "websocket")
		go func() {
			h.ServeHTTP(httptest.NewRecorder(), req)
			done <- struct{}{}
		}()
	}
	time.Sleep(200 * time.Millisecond)
	config.Members = []string{"pos-0", "pos-1", "pos-2", "pos-3"}
	if _, err := New(context.Background(), next, config, "log-change"); err != nil {
		t.Fatal(err)
	}
	config.Members = []string{"pos-0", "pos-2", "pos-3"}
	if _, err := New(context.Background(), next, config, "log-change"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	lines := strings.Split(strings.TrimSpace(log.String()), "\n")
	close(release)
	for i := 0; i < 60; i++ {
		<-done
	}
	// The first change may be overtaken by the second before it has looked at every
	// store: a newer change checks every store again, and logs for both.
	if lines[0] == "" || len(lines) > 2 {
		t.Fatalf("%d log lines for 2 changes, want 1 or 2: %q", len(lines), lines)
	}
	last := lines[len(lines)-1]
	for _, want := range []string{"storeaffinity log-change: members +[", "-[pos-1]", "live stores moved", "end at "} {
		if !strings.Contains(last, want) {
			t.Errorf("log line %q lacks %q", last, want)
		}
	}
}

// lockedBuffer is a buffer that a test reads while the middleware writes to it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
