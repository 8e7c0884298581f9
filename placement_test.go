package storeaffinity

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unsafe"
)

// TestCachedRouteSharesNoRequestBytes checks that a cached route and its key own their
// bytes: a substring of the request line would keep the whole line alive.
func TestCachedRouteSharesNoRequestBytes(t *testing.T) {
	config := CreateConfig()
	config.DeviceAffinityPrefixes = []string{"/api/appId/pos/deviceId"}
	config.Members = []string{"pos-0", "pos-1"}
	config.StickyCookie = "pos_affinity"
	h, err := New(context.Background(), http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}), config, "cached-route-bytes")
	if err != nil {
		t.Fatal(err)
	}
	path := "/api/appId/pos/deviceId/00123-001/" + strings.Repeat("x", 4096)
	req := httptest.NewRequest(http.MethodGet, path, nil)
	start := uintptr(unsafe.Pointer(unsafe.StringData(req.URL.Path)))
	end := start + uintptr(len(req.URL.Path))
	within := func(s string) bool {
		p := uintptr(unsafe.Pointer(unsafe.StringData(s)))
		return p >= start && p < end
	}
	h.ServeHTTP(httptest.NewRecorder(), req)
	a := h.(*Affinity)
	for key, r := range a.place.routes.routes {
		if within(key) || within(r.store) || within(r.member.name) {
			t.Errorf("the cached route of %q shares the request's bytes", key)
		}
	}
	if len(a.place.routes.routes) != 1 {
		t.Fatalf("%d cached routes, want 1", len(a.place.routes.routes))
	}
}

// TestLongCookieLinePassesOnAsItCame checks that one Cookie line past the short-line
// case, without the sticky cookie, reaches next as it came, behind the sticky cookie.
func TestLongCookieLinePassesOnAsItCame(t *testing.T) {
	config := CreateConfig()
	config.DeviceAffinityPrefixes = []string{"/api/appId/pos/deviceId"}
	config.Members = []string{"pos-0"}
	config.StickyCookie = "pos_affinity"
	var got string
	h, err := New(context.Background(), http.HandlerFunc(func(_ http.ResponseWriter, req *http.Request) {
		got = strings.Join(req.Header["Cookie"], "|")
	}), config, "long-cookie-line")
	if err != nil {
		t.Fatal(err)
	}
	line := "a=1;;b=2;c=" + strings.Repeat("x", 250) + ";"
	for _, path := range []string{"/api/appId/pos/deviceId/00123-001/x", "/api/catalog"} {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("Cookie", line)
		h.ServeHTTP(httptest.NewRecorder(), req)
		if want := "pos_affinity=" + StickyValue("pos-0") + "; " + line; got != want {
			t.Errorf("%s: next got Cookie %q, want %q", path, got, want)
		}
	}
}
