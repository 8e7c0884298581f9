package behaviour

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The second round of hostile input: what a request can hide, and what the
// middleware must keep across rebuilds or keep from the client.

func testQueryPastParserLimitIsRefused(t *testing.T, build Builder) {
	rec := &recorder{}
	h := mustBuild(t, build, rec, baseConfig(), "query-limit")
	padded := "?deviceId=00123-001" + strings.Repeat("&", 10000)
	for _, tc := range []struct {
		name, target string
		headers      []string
	}{
		{"10,000 empty pairs after the device ID", prefix[:4] + "/ws" + padded, nil},
		{"the header and a padded query disagree", "/ws" + padded, []string{"X-Device-Id", "00456-001"}},
	} {
		rw, s := serve(h, rec, tc.target, tc.headers...)
		if rw.Code != http.StatusBadRequest || !oneLine(rw.Body.String()) || !strings.Contains(rw.Body.String(), "query") || s.called {
			t.Errorf("%s: %d %q (next called: %v), want 400 with a one-line reason about the query", tc.name, rw.Code, rw.Body.String(), s.called)
		}
	}
}

func testQueryNameSpellings(t *testing.T, build Builder) {
	rec := &recorder{}
	config := baseConfig()
	config["deviceIdQuery"] = "device_id"
	h := mustBuild(t, build, rec, config, "query-spellings")
	want := expectedMember(t, "", baseMembers, "00123")
	for _, name := range []string{"device_id", "device.id", "device+id", "device%20id", "device[id", "+device_id"} {
		for i := 0; i < 3; i++ { // round-robin would reach every member
			rw, s := serve(h, rec, "/api/other?"+name+"=00123-001")
			if rw.Code != http.StatusNoContent {
				t.Fatalf("?%s=: %d %q", name, rw.Code, rw.Body.String())
			}
			wantSticky(t, s, want)
		}
	}
	rw, _ := serve(h, rec, "/api/other?device.id=00123-001&device_id=00456-001")
	if rw.Code != http.StatusBadRequest {
		t.Errorf("two spellings with different device IDs: %d, want 400", rw.Code)
	}
}

func testRoundRobinSurvivesRebuilds(t *testing.T, build Builder) {
	rec := &recorder{}
	seen := map[string]int{}
	for i := 0; i < 30; i++ {
		h := mustBuild(t, build, rec, baseConfig(), "rebuilt-turn")
		_, s := serve(h, rec, "/api/stateless")
		if len(s.sticky) == 1 {
			seen[memberOfSticky(s.sticky[0], baseMembers)]++
		}
	}
	for _, m := range baseMembers {
		if seen[m] != 10 {
			t.Errorf("30 rebuilds with one stateless request after each reached %v, want each member 10 times", seen)
			break
		}
	}
}

func testResponseStamp(t *testing.T, build Builder) {
	want := expectedMember(t, "", baseMembers, "00123")
	for _, tc := range []struct{ value, response string }{
		{"", "store=00123; member=" + want},
		{"member", "store=00123; member=" + want},
		{"store", "store=00123"},
		{"off", ""},
	} {
		rec := &recorder{}
		config := baseConfig()
		if tc.value != "" {
			config["responseStamp"] = tc.value
		}
		h := mustBuild(t, build, rec, config, "stamp-"+tc.value)
		rw, s := serve(h, rec, prefix+"/00123-001/ticket")
		if got := rw.Header().Get("X-Store-Affinity"); got != tc.response || rw.Header()["X-Store-Affinity"] != nil && tc.response == "" {
			t.Errorf("responseStamp %q: the client got %q, want %q", tc.value, got, tc.response)
		}
		if s.affinity != "store=00123; member="+want {
			t.Errorf("responseStamp %q: the backend got %q, want the whole stamp", tc.value, s.affinity)
		}
	}
	config := baseConfig()
	config["responseStamp"] = "pod"
	if _, err := build(context.Background(), &recorder{}, config, "stamp-bad"); err == nil || !strings.Contains(err.Error(), "responseStamp") {
		t.Errorf("responseStamp: pod: %v, want an error naming the key", err)
	}
}

func testEmptyCookieSlice(t *testing.T, build Builder) {
	rec := &recorder{}
	for _, tc := range []struct {
		name   string
		config map[string]any
		target string
		member string
	}{
		{"stateful", baseConfig(), prefix + "/00123-001/ticket", expectedMember(t, "", baseMembers, "00123")},
		{"stateless", baseConfig(), "/api/stateless", ""},
		{"no members", map[string]any{"deviceAffinityPrefixes": prefix, "stickyCookie": cookieName}, "/api/stateless", ""},
	} {
		h := mustBuild(t, build, rec, tc.config, "empty-cookies-"+strings.ReplaceAll(tc.name, " ", "-"))
		req := httptest.NewRequest(http.MethodGet, tc.target, nil)
		req.Header["Cookie"] = []string{}
		rw := httptest.NewRecorder()
		h.ServeHTTP(rw, req)
		s := rec.take()
		if !s.called || rw.Code != http.StatusNoContent {
			t.Errorf("%s: an empty Cookie slice got %d (next called: %v)", tc.name, rw.Code, s.called)
			continue
		}
		if tc.member != "" {
			wantSticky(t, s, tc.member)
		}
	}
}

func testQueryAsForwarded(t *testing.T, build Builder) {
	rec := &recorder{}
	h := mustBuild(t, build, rec, baseConfig(), "query-forwarded")
	want := expectedMember(t, "", baseMembers, "00123")
	// Traefik forwards ';' as '&'; qs reads [name] as name; PHP cuts a name at NUL.
	for _, target := range []string{
		"/ws?x=1;deviceId=00123-001",
		"/ws?;deviceId=00123-001",
		"/ws?%5BdeviceId%5D=00123-001",
		"/ws?deviceId%00x=00123-001",
	} {
		for i := 0; i < 3; i++ {
			rw, s := serve(h, rec, target)
			if rw.Code != http.StatusNoContent {
				t.Fatalf("%s: %d %q", target, rw.Code, rw.Body.String())
			}
			wantSticky(t, s, want)
		}
	}
	for _, target := range []string{
		prefix + "/00123-001/ticket?;deviceId=00456-001",
		"/ws?deviceId=00123-001&deviceId%00x=00456-001",
		"/ws?deviceId=00123-001%",
	} {
		rw, s := serve(h, rec, target)
		if rw.Code != http.StatusBadRequest || s.called || !oneLine(rw.Body.String()) {
			t.Errorf("%s: %d %q (next called: %v), want 400 with a one-line reason", target, rw.Code, rw.Body.String(), s.called)
		}
	}
}
