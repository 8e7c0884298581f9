package storeaffinity_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/storeaffinity/storeaffinity"
)

// FuzzDeviceID sends arbitrary device IDs by path, header and query: the middleware
// never panics, answers 400 with one line or passes the request on with exactly one
// sticky cookie, and routes a device only to a configured member.
func FuzzDeviceID(f *testing.F) {
	for _, seed := range []string{"00123-001", "", "-", "a%2Fb-1", "..-1", "%zz-1", "a\x00b-1", "München-1", strings.Repeat("7", 200)} {
		f.Add(seed)
	}
	config := storeaffinity.CreateConfig()
	config.DeviceAffinityPrefixes = []string{"/api/appId/pos/deviceId"}
	config.DeviceIDHeader = "X-Device-Id"
	config.DeviceIDQuery = "deviceId"
	config.Members = []string{"pos-0", "pos-1", "pos-2"}
	config.StickyCookie = "pos_affinity"
	valid := map[string]bool{}
	for _, m := range config.Members {
		valid[storeaffinity.StickyValue(m)] = true
	}
	var stickies []string
	next := http.HandlerFunc(func(rw http.ResponseWriter, req *http.Request) {
		stickies = stickies[:0]
		for _, c := range req.Cookies() {
			if c.Name == "pos_affinity" {
				stickies = append(stickies, c.Value)
			}
		}
	})
	h, err := storeaffinity.New(context.Background(), next, config, "fuzz")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, deviceID string) {
		requests := []*http.Request{
			httptest.NewRequest(http.MethodGet, "/ws?deviceId="+url.QueryEscape(deviceID), nil),
			httptest.NewRequest(http.MethodGet, "/api/x", nil),
		}
		requests[1].Header["X-Device-Id"] = []string{deviceID}
		if u, err := url.Parse("/api/appId/pos/deviceId/" + deviceID + "/sale"); err == nil {
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.URL = u
			requests = append(requests, req)
		}
		for _, req := range requests {
			stickies = nil
			rw := httptest.NewRecorder()
			h.ServeHTTP(rw, req)
			switch rw.Code {
			case http.StatusBadRequest:
				if body := rw.Body.String(); strings.Count(body, "\n") != 1 || stickies != nil {
					t.Fatalf("400 with body %q, next called: %v", body, stickies != nil)
				}
			case http.StatusOK:
				if len(stickies) != 1 || !valid[stickies[0]] {
					t.Fatalf("device %q reached next with sticky cookies %v", deviceID, stickies)
				}
			default:
				t.Fatalf("device %q: status %d", deviceID, rw.Code)
			}
		}
	})
}
