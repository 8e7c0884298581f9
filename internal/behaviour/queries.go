package behaviour

import (
	"net/http"
	"strings"
	"testing"
)

// Device IDs in the query: read as the backend reads them and as Traefik forwards
// them, with every spelling of the name, and refused when a query hides another one.

func testQueryDecoded(t *testing.T, build Builder) {
	rec := &recorder{}
	h := mustBuild(t, build, rec, baseConfig(), "query-decoded")
	want := expectedMember(t, "", baseMembers, "00123")
	for _, target := range []string{
		"/ws?deviceId=00123-001",
		"/ws?device%49d=00123-001",
		"/ws?deviceId=00123%2D001",
		"/ws?x=1&deviceId=00123-001&deviceId=00123-001",
	} {
		_, s := serve(h, rec, target)
		if !s.called || len(s.sticky) != 1 || s.sticky[0] != stickyValue(want) {
			t.Errorf("%s: sticky %v, want %s's (store 00123)", target, s.sticky, want)
		}
	}
	// A query the middleware cannot read completely reaches the backend as sent.
	if rw, s := serve(h, rec, "/ws?x=%zz&deviceId=00123-001"); rw.Code != http.StatusBadRequest || s.called {
		t.Errorf("a bad escape beside the device ID: status %d, want 400", rw.Code)
	}
	rw, s := serve(h, rec, "/ws?deviceId=00123-001&device%49d=00456-001")
	if rw.Code != http.StatusBadRequest || s.called {
		t.Errorf("two different deviceId values: status %d, want 400", rw.Code)
	}
}

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
