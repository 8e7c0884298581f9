package traefik

import (
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/storeaffinity/storeaffinity/demo/harness/stack"
)

// TestBadDeviceIDsGet400 sends malformed device IDs in the path, the device-ID header
// and the query parameter through Traefik: each gets a 400 with a one-line reason, no
// backend sees it, and Traefik's log shows no panic (checked when the test ends).
func TestBadDeviceIDsGet400(t *testing.T) {
	e := start(t, setup{app: stack.App{Extra: map[string]any{"deviceIdHeader": "X-Device-Id", "deviceIdQuery": "deviceId"}}})
	prefix := "/api/appId/pos/deviceId/"
	tests := []struct {
		name   string
		path   string
		header string
	}{
		{"no device segment", "/api/appId/pos/deviceId", ""},
		{"empty segment", prefix + "/ticket", ""},
		{"no store part", prefix + "nodash/ticket", ""},
		{"longer than 128 bytes", prefix + strings.Repeat("7", 125) + "-001/ticket", ""},
		{"control character", prefix + "00123%01-001/ticket", ""},
		{"dot dot inside", prefix + "00..123-001/ticket", ""},
		{"encoded slash", prefix + "00123%2F1-001/ticket", ""},
		{"encoded backslash", prefix + "00123%5C1-001/ticket", ""},
		{"header with a slash", "/api/catalog", "00123/1-001"},
		{"header with dot dot", "/api/catalog", "00..1-001"},
		{"header longer than 128 bytes", "/api/catalog", strings.Repeat("9", 200) + "-1"},
		{"query with an encoded slash", "/api/catalog?deviceId=00123%2F1-001", ""},
		{"query with a control character", "/api/catalog?deviceId=00123%0A-001", ""},
		{"query without store part", "/api/catalog?deviceId=nodash", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(e.ctx, http.MethodGet, e.traefik.WebURL+tt.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tt.header != "" {
				req.Header.Set("X-Device-Id", tt.header)
			}
			resp, err := e.client.HTTP.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			reason := strings.TrimSpace(string(body))
			t.Logf("%d %q (replica %q)", resp.StatusCode, reason, resp.Header.Get("X-Replica"))
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("status %d, want 400", resp.StatusCode)
			}
			if !strings.Contains(reason, "device ID") || strings.Contains(reason, "\n") {
				t.Errorf("reason %q, want one line about the device ID", reason)
			}
			if replica := resp.Header.Get("X-Replica"); replica != "" {
				t.Errorf("replica %s served a bad device ID", replica)
			}
		})
	}
	t.Run("random bytes never cause a server error", func(t *testing.T) {
		random := rand.New(rand.NewPCG(1, 2))
		for i := 0; i < 200; i++ {
			id := make([]byte, 1+random.IntN(140))
			for j := range id {
				id[j] = byte(random.IntN(256))
			}
			path := prefix + url.PathEscape(string(id)) + "/ticket"
			resp, err := e.client.Get(e.ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			if resp.Status >= 500 {
				t.Errorf("%s: status %d %s", path, resp.Status, resp.Body)
			}
		}
	})
	if resp, err := e.client.Ticket(e.ctx, "00123-001"); err != nil || resp.Status != http.StatusOK {
		t.Errorf("a good request after the bad ones: %v %+v", err, resp)
	}
}
