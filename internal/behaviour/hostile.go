package behaviour

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// cookies returns a Cookie header value of n cookies.
func cookies(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprintf("c%d=v", i)
	}
	return strings.Join(parts, "; ")
}

func testCookieFloods(t *testing.T, build Builder) {
	rec := &recorder{}
	h := mustBuild(t, build, rec, baseConfig(), "cookie-flood")
	want := expectedMember(t, "", baseMembers, "00123")
	for _, target := range []string{prefix + "/00123-001", "/api/catalog"} {
		// Within the bound: the client's cookies are kept, and ours is read.
		_, s := serve(h, rec, target, "Cookie", cookies(150))
		if len(s.sticky) != 1 {
			t.Fatalf("%s with 150 cookies: sticky %v, want exactly one", target, s.sticky)
		}
		if strings.HasPrefix(target, prefix) && s.sticky[0] != stickyValue(want) {
			t.Errorf("%s with 150 cookies: sticky %v, want %s's", target, s.sticky, want)
		}
		floods := map[string][]string{
			"3001 cookies":           {"Cookie", cookies(3001)},
			"250 cookies in 2 lines": {"Cookie", cookies(125), "Cookie", cookies(125)},
			"976 KiB of cookies":     {"Cookie", "big=" + strings.Repeat("x", 976<<10)},
		}
		for name, headers := range floods {
			began := time.Now()
			rw, s := serve(h, rec, target, headers...)
			if rw.Code != http.StatusRequestHeaderFieldsTooLarge || s.called {
				t.Errorf("%s, %s: status %d, next called %v; want 431 and next not called", target, name, rw.Code, s.called)
			}
			if body := rw.Body.String(); !strings.HasPrefix(body, "storeaffinity: ") || !oneLine(body) {
				t.Errorf("%s, %s: body %q, want one line starting with 'storeaffinity: '", target, name, body)
			}
			if elapsed := time.Since(began); elapsed > time.Second {
				t.Errorf("%s, %s: took %v", target, name, elapsed)
			}
		}
	}
}

func testPathDecodedOnce(t *testing.T, build Builder) {
	rec := &recorder{}
	h := mustBuild(t, build, rec, baseConfig(), "path-decoded-once")
	want := expectedMember(t, "", baseMembers, "00123")
	for _, segment := range []string{"00123%2D001", "00123-0%41", "%30%30%31%32%33-001"} {
		_, s := serve(h, rec, prefix+"/"+segment+"/sale")
		if !s.called || len(s.sticky) != 1 || s.sticky[0] != stickyValue(want) {
			t.Errorf("segment %s: sticky %v, want %s's (store 00123)", segment, s.sticky, want)
		}
	}
	// Decoded once, as a backend decodes it, "00123-0%2541" is "00123-0%41": not a
	// device ID. Decoded twice it would be 00123-0A, a device the backend never sees.
	for _, segment := range []string{"00123-0%2541", "00123-0%25"} {
		rw, s := serve(h, rec, prefix+"/"+segment+"/sale")
		if rw.Code != http.StatusBadRequest || s.called {
			t.Errorf("segment %s: status %d, next called %v; want 400", segment, rw.Code, s.called)
		}
	}
}

func testHeaderLiteral(t *testing.T, build Builder) {
	rec := &recorder{}
	h := mustBuild(t, build, rec, baseConfig(), "header-literal")
	for _, value := range []string{"00123-a%2D1", "00123-001, 00456-001", "00123 -001"} {
		rw, s := serve(h, rec, "/api/x", "X-Device-Id", value)
		if rw.Code != http.StatusBadRequest || s.called {
			t.Errorf("header %q: status %d, next called %v; want 400 (read literally, it is not a device ID)", value, rw.Code, s.called)
		}
	}
}

func testEncodedPrefix(t *testing.T, build Builder) {
	rec := &recorder{}
	h := mustBuild(t, build, rec, baseConfig(), "encoded-prefix")
	for _, target := range []string{
		"/api/appId/pos%2FdeviceId/00123-001/x",
		prefix + "%2F00123-001/x",
		"/api/appId%2Fpos/deviceId/00123-001",
	} {
		rw, s := serve(h, rec, target, "X-Device-Id", "77777-001")
		if rw.Code != http.StatusBadRequest || s.called {
			t.Errorf("%s: status %d, next called %v; want 400 (decoded, the path names another device)", target, rw.Code, s.called)
		}
	}
	_, s := serve(h, rec, "/api/catalog%2Fitems", "X-Device-Id", "77777-001")
	wantSticky(t, s, expectedMember(t, "", baseMembers, "77777"))
}

func testTwoDeviceIDs(t *testing.T, build Builder) {
	rec := &recorder{}
	h := mustBuild(t, build, rec, baseConfig(), "two-ids")
	refused := []struct {
		name, target string
		headers      []string
	}{
		{"two headers", "/api/x", []string{"X-Device-Id", "00123-001", "X-Device-Id", "00456-001"}},
		{"header and query", "/ws?deviceId=00456-001", []string{"X-Device-Id", "00123-001"}},
		{"path and header", prefix + "/00123-001", []string{"X-Device-Id", "00456-001"}},
		{"path and query", prefix + "/00123-001?deviceId=00456-001", nil},
	}
	for _, tc := range refused {
		rw, s := serve(h, rec, tc.target, tc.headers...)
		if rw.Code != http.StatusBadRequest || s.called {
			t.Errorf("%s: status %d, next called %v; want 400", tc.name, rw.Code, s.called)
		}
	}
	want := expectedMember(t, "", baseMembers, "00123")
	_, s := serve(h, rec, prefix+"/00123-001?deviceId=00123-001", "X-Device-Id", "00123-001")
	wantSticky(t, s, want)
}

func testStampUnforgeable(t *testing.T, build Builder) {
	rec := &recorder{}
	h := mustBuild(t, build, rec, baseConfig(), "stamp")
	forged := "00001;%20member=pos-0;%20x=0-001"
	rw, s := serve(h, rec, prefix+"/"+forged)
	if rw.Code != http.StatusBadRequest || s.called {
		t.Errorf("device %q: status %d, want 400", forged, rw.Code)
	}
	want := "store=00123; member=" + expectedMember(t, "", baseMembers, "00123")
	for _, target := range []string{prefix + "/00123-001", "/api/catalog"} {
		_, s := serve(h, rec, target, "X_Store_Affinity", "member=pos-0", "X-Store_Affinity", "member=pos-0", "X_Store-Affinity", "member=pos-0")
		for key := range s.header {
			if strings.EqualFold(strings.ReplaceAll(key, "_", "-"), "X-Store-Affinity") && key != "X-Store-Affinity" {
				t.Errorf("%s: the client's %s reached next", target, key)
			}
		}
		stamps := s.header["X-Store-Affinity"]
		if strings.HasPrefix(target, prefix) && (len(stamps) != 1 || stamps[0] != want) {
			t.Errorf("%s: stamps %q, want [%q]", target, stamps, want)
		}
	}
}

// Servlet containers and Spring remove each segment's ';' parameters before routing.
func testPathParameters(t *testing.T, build Builder) {
	rec := &recorder{}
	h := mustBuild(t, build, rec, baseConfig(), "path-parameters")
	want := expectedMember(t, "", baseMembers, "00456")
	// In a prefix they are removed, as such a backend removes them: it reads 00456-001.
	for _, target := range []string{
		"/api/appId/pos;v=1/deviceId/00456-001/sale",
		"/api/appId/pos/deviceId;v=1/00456-001",
		"/api;x/appId;;/pos/deviceId;/00456-001",
		"/api;x%2Fy/appId/pos/deviceId/00456-001/sale", // decoded, the parameter holds a '/'
		"/api/appId;%2F/pos/deviceId/00456-001",
	} {
		_, s := serve(h, rec, target)
		wantSticky(t, s, want)
		if rw, s := serve(h, rec, target, "X-Device-Id", "00123-001"); rw.Code != http.StatusBadRequest || s.called {
			t.Errorf("%s with header 00123-001: status %d; want 400 (two device IDs)", target, rw.Code)
		}
	}
	// In the device segment they are refused, with a header or without, whatever
	// missingDeviceId says: such a backend reads 00456-001, the middleware cannot.
	target := prefix + "/00456-001;jsessionid=abc/sale"
	for _, headers := range [][]string{nil, {"X-Device-Id", "00456-001"}} {
		rw, s := serve(h, rec, target, headers...)
		if body := rw.Body.String(); rw.Code != http.StatusBadRequest || s.called || !strings.Contains(body, "';'") || !oneLine(body) {
			t.Errorf("%s %v: status %d, next called %v, body %q; want 400 with one line that names ';'", target, headers, rw.Code, s.called, body)
		}
	}
	// An encoded ';' is no parameter: the device ID is bad for its character.
	rw, _ := serve(h, rec, prefix+"/00123-001%3Bx/sale")
	if body := rw.Body.String(); rw.Code != http.StatusBadRequest || strings.Contains(body, "parameters") {
		t.Errorf("encoded ';' in the device segment: status %d, body %q; want 400 for the character", rw.Code, body)
	}
	// Parameters after the device segment change nothing.
	_, s := serve(h, rec, prefix+"/00123-001/sale;v=1")
	wantSticky(t, s, expectedMember(t, "", baseMembers, "00123"))
}

func testConflictsUnderRoundRobin(t *testing.T, build Builder) {
	rec := &recorder{}
	h := mustBuild(t, build, rec, roundRobinConfig(), "conflicts-round-robin")
	refused := []struct {
		target  string
		headers []string
	}{
		{prefix + "/00123-001", []string{"X-Device-Id", "00456-001"}},
		{"/api/x?deviceId=00456-001", []string{"X-Device-Id", "00123-001"}},
		{"/api/x", []string{"X-Device-Id", "00123-001", "X-Device-Id", "00456-001"}},
		{"/api/appId/pos%2FdeviceId/00123-001/x", nil},
		{prefix + "/00456-001;jsessionid=abc/sale", nil},
		{"/api/appId/pos%2FdeviceId;x/00123-001", nil},
		{prefix + "/00123-001%2Fx/sale", nil},
	}
	for _, tc := range refused {
		rw, s := serve(h, rec, tc.target, tc.headers...)
		if rw.Code != http.StatusBadRequest || s.called {
			t.Errorf("%s %v: status %d, next called %v; want 400 whatever missingDeviceId says", tc.target, tc.headers, rw.Code, s.called)
		}
	}
	// A device ID that is only bad, not in conflict, is served round-robin, and so is
	// a path that no backend reads under a prefix: an encoded ';' is no parameter.
	for _, target := range []string{prefix + "/bad..id", prefix + "/00123-001%3Bx/sale", "/api/appId/pos/deviceId%3Bx/00123-001"} {
		rw, s := serve(h, rec, target)
		if rw.Code != http.StatusNoContent || len(s.sticky) != 1 || s.affinity != "" {
			t.Errorf("%s under roundRobin: status %d, sticky %v, affinity %q; want round-robin", target, rw.Code, s.sticky, s.affinity)
		}
	}
}

func testDeviceHeaderSpellings(t *testing.T, build Builder) {
	rec := &recorder{}
	h := mustBuild(t, build, rec, baseConfig(), "device-header-spellings")
	for _, target := range []string{prefix + "/00123-001", "/api/catalog"} {
		_, s := serve(h, rec, target, "X_Device_Id", "00456-001", "X-Device_Id", "00456-001", "X_Device-Id", "00456-001")
		if !s.called {
			t.Fatalf("%s: next not called", target)
		}
		for key := range s.header {
			if strings.EqualFold(strings.ReplaceAll(key, "_", "-"), "X-Device-Id") {
				t.Errorf("%s: the client's %s reached next; a CGI-style backend reads it as the device ID", target, key)
			}
		}
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

func testNoMembersSpellings(t *testing.T, build Builder) {
	rec := &recorder{}
	config := baseConfig()
	config["members"] = []any{}
	h := mustBuild(t, build, rec, config, "no-members-spellings")
	_, s := serve(h, rec, "/api/catalog", "X_Store_Affinity", "member=pos-0", "X-Store_Affinity", "member=pos-0",
		"X_Device_Id", "00999-001", "X-Device_Id", "00999-001")
	for _, key := range []string{"X_store_affinity", "X-Store_affinity", "X_device_id", "X-Device_id"} {
		if s.header[http.CanonicalHeaderKey(key)] != nil {
			t.Errorf("without members, the client's %s reached next", key)
		}
	}
}

// panicking is a next handler that panics as Traefik's proxy does when a streamed
// response is cut.
type panicking struct{}

func (panicking) ServeHTTP(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) }

func testPanicInNext(t *testing.T, build Builder) {
	h := mustBuild(t, build, panicking{}, baseConfig(), "panic")
	for i := 0; i < 3; i++ {
		req := httptest.NewRequest(http.MethodGet, prefix+"/00123-001/events", nil)
		req.Header.Set("Accept", "text/event-stream")
		got := func() (recovered any) {
			defer func() { recovered = recover() }()
			h.ServeHTTP(httptest.NewRecorder(), req)
			return nil
		}()
		if got != http.ErrAbortHandler {
			t.Fatalf("panic %v reached the caller, want http.ErrAbortHandler passed on", got)
		}
	}
}
