package provider

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

func TestHealthCheckFiltersStaticMembers(t *testing.T) {
	for _, runtime := range runtimes {
		t.Run(runtime, func(t *testing.T) {
			var bDown atomic.Bool
			a := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
			defer a.Close()
			b := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				if bDown.Load() {
					w.WriteHeader(http.StatusServiceUnavailable)
				}
			}))
			defer b.Close()
			config := map[string]any{"apps": []any{map[string]any{
				"name":        "pos",
				"static":      map[string]any{"servers": "a=" + a.URL + ",b=" + b.URL},
				"healthCheck": map[string]any{"path": "/healthz", "interval": "50ms", "timeout": "1s", "fails": 2, "passes": "2"},
			}}}
			r := start(t, newProvider(t, runtime, config))
			r.waitMembers(t, "pos", "pos-a="+a.URL+",pos-b="+b.URL, 5*time.Second)
			bDown.Store(true)
			r.waitMembers(t, "pos", "pos-a="+a.URL, 5*time.Second)
			bDown.Store(false)
			r.waitMembers(t, "pos", "pos-a="+a.URL+",pos-b="+b.URL, 5*time.Second)
		})
	}
}
