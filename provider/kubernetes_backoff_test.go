package provider

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// logBuffer collects what a source logs; sources log from their own goroutine.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestKubernetesWatchLoopsBackOff(t *testing.T) {
	list := `{"metadata":{"resourceVersion":"10"},"items":[` + sliceJSON("9", "10.0.0.1") + `]}`
	tests := []struct {
		name  string
		watch func(w http.ResponseWriter)
	}{
		{"a watch that ends at once with an empty 200", func(w http.ResponseWriter) {}},
		{"410 Gone on every watch", func(w http.ResponseWriter) {
			http.Error(w, `{"kind":"Status","code":410,"reason":"Expired"}`, http.StatusGone)
		}},
		{"an ERROR 410 event on every watch", func(w http.ResponseWriter) {
			_, _ = w.Write([]byte(event("ERROR", `{"kind":"Status","code":410,"reason":"Expired"}`)))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			requests := 0
			watch := tt.watch
			server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				requests++
				mu.Unlock()
				if r.URL.Query().Get("watch") == "" {
					_, _ = w.Write([]byte(list))
					return
				}
				watch(w)
			}))
			defer server.Close()
			src, err := newKubernetesSource("kubernetes", &KubernetesDiscovery{Namespace: "shop", Service: "pos", Endpoint: server.URL, Token: "t"})
			if err != nil {
				t.Fatal(err)
			}
			logs := &logBuffer{}
			var w io.Writer = logs // one by one: Yaegi v0.16.1 mistypes a tuple assignment of interpreted values to interface fields
			src.stdout = w
			src.stderr = w
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			src.run(ctx, func([]member) {})
			mu.Lock()
			n := requests
			mu.Unlock()
			lines := strings.Count(logs.String(), "\n")
			t.Logf("%d requests and %d log lines in 1s", n, lines)
			if n > 10 {
				t.Errorf("%d requests in 1s; every loop must back off (200ms, doubling)", n)
			}
			if lines > 5 {
				t.Errorf("%d log lines in 1s, want at most one per backoff step:\n%.500s", lines, logs.String())
			}
		})
	}
}

// TestKubernetesListsAtOnceAfterAnOutage: an API server that comes back after an
// outage answers the resumed watch with 410 Gone (its watch cache starts anew). That
// 410 lists again at once, not after the backoff the outage built up.
func TestKubernetesListsAtOnceAfterAnOutage(t *testing.T) {
	var mu sync.Mutex
	watches, lists := 0, 0
	var goneAt, relistAt time.Time
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if r.URL.Query().Get("watch") == "" {
			lists++
			if lists == 2 {
				relistAt = time.Now()
			}
			_, _ = w.Write([]byte(`{"metadata":{"resourceVersion":"10"},"items":[` + sliceJSON("9", "10.0.0.1") + `]}`))
			return
		}
		watches++
		switch {
		case watches <= 3: // the outage
			http.Error(w, "unavailable", http.StatusServiceUnavailable)
		case watches == 4:
			goneAt = time.Now()
			http.Error(w, `{"kind":"Status","code":410,"reason":"Expired"}`, http.StatusGone)
		default:
			time.Sleep(50 * time.Millisecond)
		}
	}))
	defer server.Close()
	src, err := newKubernetesSource("kubernetes", &KubernetesDiscovery{Namespace: "shop", Service: "pos", Endpoint: server.URL, Token: "t"})
	if err != nil {
		t.Fatal(err)
	}
	src.minBackoff, src.maxBackoff = 100*time.Millisecond, time.Second
	var w io.Writer = &logBuffer{}
	src.stdout = w
	src.stderr = w
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	src.run(ctx, func([]member) {})
	mu.Lock()
	defer mu.Unlock()
	if relistAt.IsZero() {
		t.Fatalf("no list after the 410 (%d watches, %d lists)", watches, lists)
	}
	// After three failed watches the backoff is 800ms.
	if gap := relistAt.Sub(goneAt); gap > 300*time.Millisecond {
		t.Errorf("listed again %v after the 410 that followed the outage, want at once", gap)
	}
}
