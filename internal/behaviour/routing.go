package behaviour

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

func testStoreDevicesShareMember(t *testing.T, build Builder) {
	rec := &recorder{}
	h := mustBuild(t, build, rec, baseConfig(), "share")
	for i := 0; i < 200; i++ {
		store := fmt.Sprintf("%05d", i)
		want := expectedMember(t, "", baseMembers, store)
		targets := []struct{ target, header string }{
			{prefix + "/" + store + "-001/transactions", ""},
			{"/api/app/pos/node/" + store + "-002", ""},
			{"/ws?deviceId=" + store + "-003", ""},
			{"/api/anything", store + "-004"},
		}
		for _, tt := range targets {
			var headers []string
			if tt.header != "" {
				headers = []string{"X-Device-Id", tt.header}
			}
			_, s := serve(h, rec, tt.target, headers...)
			wantSticky(t, s, want)
		}
	}
}

func testAffinityHeader(t *testing.T, build Builder) {
	rec := &recorder{}
	h := mustBuild(t, build, rec, baseConfig(), "header")
	want := "store=00123; member=" + expectedMember(t, "", baseMembers, "00123")
	rw, s := serve(h, rec, prefix+"/00123-001/sale")
	if s.affinity != want {
		t.Errorf("request header = %q, want %q", s.affinity, want)
	}
	if got := rw.Header().Get("X-Store-Affinity"); got != want {
		t.Errorf("response header = %q, want %q", got, want)
	}
	if rw.Header().Get("Set-Cookie") != "" {
		t.Errorf("response sets a cookie: %q", rw.Header().Get("Set-Cookie"))
	}

	config := baseConfig()
	config["affinityHeader"] = "X-Pinned"
	h = mustBuild(t, build, rec, config, "header-custom")
	rw, _ = serve(h, rec, prefix+"/00123-001/sale")
	if got := rw.Header().Get("X-Pinned"); got != want {
		t.Errorf("custom response header = %q, want %q", got, want)
	}
}

func testStatelessRoundRobin(t *testing.T, build Builder) {
	rec := &recorder{}
	h := mustBuild(t, build, rec, baseConfig(), "roundrobin")
	counts := map[string]int{}
	for i := 0; i < 300; i++ {
		rw, s := serve(h, rec, "/api/catalog/items")
		if len(s.sticky) != 1 {
			t.Fatalf("request %d: sticky cookies %v, want exactly one", i, s.sticky)
		}
		counts[memberOfSticky(s.sticky[0], baseMembers)]++
		if s.affinity != "" || rw.Header().Get("X-Store-Affinity") != "" {
			t.Fatalf("stateless request stamped with affinity %q", s.affinity)
		}
	}
	for _, m := range baseMembers {
		if counts[m] != 100 {
			t.Errorf("member %s got %d of 300 stateless requests, want 100 (counts %v)", m, counts[m], counts)
		}
	}
}

func testClientCannotChoose(t *testing.T, build Builder) {
	rec := &recorder{}
	h := mustBuild(t, build, rec, baseConfig(), "nochoice")
	want := expectedMember(t, "", baseMembers, "00123")
	var other string
	for _, m := range baseMembers {
		if m != want {
			other = m
		}
	}
	forged := cookieName + "=" + stickyValue(other)
	_, s := serve(h, rec, prefix+"/00123-001",
		"Cookie", "session=abc; "+forged, "Cookie", forged+"; theme=dark",
		"X-Store-Affinity", "store=99999; member="+other)
	wantSticky(t, s, want)
	if s.affinity != "store=00123; member="+want {
		t.Errorf("affinity header %q survived; want the middleware's own", s.affinity)
	}
	joined := strings.Join(s.cookies, "; ")
	if !strings.Contains(joined, "session=abc") || !strings.Contains(joined, "theme=dark") {
		t.Errorf("client's other cookies lost: %q", s.cookies)
	}

	_, s = serve(h, rec, "/api/catalog", "Cookie", forged, "X-Store-Affinity", "member="+other)
	if len(s.sticky) != 1 || s.affinity != "" {
		t.Errorf("stateless request kept client choice: sticky %v, affinity %q", s.sticky, s.affinity)
	}
}

func testBadDeviceID(t *testing.T, build Builder) {
	rec := &recorder{}
	h := mustBuild(t, build, rec, baseConfig(), "bad")
	cases := []struct {
		name, target string
		headers      []string
	}{
		{"empty segment", prefix + "/", nil},
		{"no segment", prefix, nil},
		{"too long", prefix + "/" + strings.Repeat("7", 200) + "-001", nil},
		{"encoded slash", prefix + "/001%2F23-001/x", nil},
		{"encoded backslash", prefix + "/001%5c23-001", nil},
		{"dot dot", prefix + "/..-001", nil},
		{"bad escape", "/api/x", []string{"X-Device-Id", "00%zz-001"}},
		{"no store part", prefix + "/00123", nil},
		{"empty store part", prefix + "/-001", nil},
		{"control char in header", "/api/x", []string{"X-Device-Id", "001\x0123-001"}},
		{"empty header", "/api/x", []string{"X-Device-Id", ""}},
		{"slash in query", "/ws?deviceId=a/b-1", nil},
	}
	for _, tc := range cases {
		rw, s := serve(h, rec, tc.target, tc.headers...)
		if rw.Code != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", tc.name, rw.Code)
		}
		if s.called {
			t.Errorf("%s: next was called", tc.name)
		}
		body := rw.Body.String()
		if !strings.HasPrefix(body, "storeaffinity: ") || !oneLine(body) || len(body) > 512 {
			t.Errorf("%s: body %q, want one short line starting with 'storeaffinity: '", tc.name, body)
		}
	}
}

func testWithoutPrefixes(t *testing.T, build Builder) {
	rec := &recorder{}
	config := baseConfig()
	delete(config, "deviceAffinityPrefixes")
	h := mustBuild(t, build, rec, config, "no-prefixes")
	for _, target := range []string{"/", "/api", prefix + "/00123-001", "/00123-001/x"} {
		rw, s := serve(h, rec, target)
		if rw.Code != http.StatusNoContent || len(s.sticky) != 1 || s.affinity != "" {
			t.Errorf("%s without a device-ID header or query: status %d, sticky %v, affinity %q; want round-robin", target, rw.Code, s.sticky, s.affinity)
		}
	}
	_, s := serve(h, rec, "/00456-001/x", "X-Device-Id", "00123-001")
	wantSticky(t, s, expectedMember(t, "", baseMembers, "00123"))
}

func testMissingDeviceIDRoundRobin(t *testing.T, build Builder) {
	rec := &recorder{}
	h := mustBuild(t, build, rec, roundRobinConfig(), "missing-rr")
	rw, s := serve(h, rec, prefix+"/", "X-Store-Affinity", "member=pos-0")
	if rw.Code != http.StatusNoContent || len(s.sticky) != 1 {
		t.Fatalf("status %d, sticky %v: want next called with one sticky cookie", rw.Code, s.sticky)
	}
	if s.affinity != "" {
		t.Errorf("round-robin request carries affinity %q", s.affinity)
	}
}

func testConfigErrors(t *testing.T, build Builder) {
	cases := []struct {
		key   string
		value any
	}{
		{"members", []any{"pos-0", "pos-0"}},
		{"members", []any{"pos-0", "pos-1; member=x"}},
		{"deviceIdQuery", "device id"},
		{"stickyCookie", ""},
		{"stickyCookie", "bad cookie"},
		{"strategy", "random"},
		{"storeIdPattern", "^(.*)-"},
		{"storeIdPattern", "(?P<store>"},
		{"missingDeviceId", "ignore"},
		{"rebalanceGrace", "soon"},
		{"deviceAffinityPrefixes", []any{"api/pos"}},
		{"deviceAffinityPrefixes", []any{"/api/app id"}},
		{"deviceAffinityPrefixes", []any{"/"}},
		{"deviceAffinityPrefixes", []any{"/devices", "/devices/by-id/v2"}},
		{"deviceIdHeader", "X-Acme-Pos-Terminal-Device-Id"},
		{"affinityHeader", "X-Acme-Pos-Store-Affinity-Stamp"},
		{"deviceAffinityPrefixes", []any{"/api/app;v=1"}},
		{"deviceAffinityPrefixes", []any{"/api/app%20id"}},
	}
	for _, tc := range cases {
		config := baseConfig()
		config[tc.key] = tc.value
		_, err := build(context.Background(), &recorder{}, config, "config-error")
		if err == nil {
			t.Errorf("%s=%v: no error", tc.key, tc.value)
			continue
		}
		if !strings.Contains(err.Error(), tc.key) {
			t.Errorf("%s=%v: error %q does not name the key", tc.key, tc.value, err)
		}
	}
	config := baseConfig()
	delete(config, "deviceAffinityPrefixes")
	delete(config, "deviceIdHeader")
	delete(config, "deviceIdQuery")
	if _, err := build(context.Background(), &recorder{}, config, "config-error"); err == nil || !strings.Contains(err.Error(), "deviceAffinityPrefixes") {
		t.Errorf("no device-ID source: error %v, want one naming deviceAffinityPrefixes", err)
	}
}

func testCommaSeparatedLists(t *testing.T, build Builder) {
	rec := &recorder{}
	config := baseConfig()
	config["members"] = "pos-1, pos-2,pos-0"
	config["deviceAffinityPrefixes"] = "/api/appId/pos/deviceId, /api/app/pos/node"
	h := mustBuild(t, build, rec, config, "comma")
	want := expectedMember(t, "", baseMembers, "00777")
	for _, target := range []string{prefix + "/00777-1", "/api/app/pos/node/00777-2"} {
		_, s := serve(h, rec, target)
		wantSticky(t, s, want)
	}
}

func testStoreIDPattern(t *testing.T, build Builder) {
	rec := &recorder{}
	config := baseConfig()
	config["storeIdPattern"] = `^(?P<store>[0-9]{5})[0-9]{3}$`
	h := mustBuild(t, build, rec, config, "pattern")
	_, s := serve(h, rec, prefix+"/00123001")
	if want := "store=00123; member=" + expectedMember(t, "", baseMembers, "00123"); s.affinity != want {
		t.Errorf("affinity %q, want %q", s.affinity, want)
	}
	if rw, _ := serve(h, rec, prefix+"/00123-001"); rw.Code != http.StatusBadRequest {
		t.Errorf("device ID not matching the pattern: status %d, want 400", rw.Code)
	}
}

func testModuloStrategy(t *testing.T, build Builder) {
	rec := &recorder{}
	config := baseConfig()
	config["strategy"] = "modulo"
	h := mustBuild(t, build, rec, config, "modulo")
	for i := 0; i < 50; i++ {
		store := fmt.Sprintf("%05d", i*7919)
		_, s := serve(h, rec, prefix+"/"+store+"-001")
		wantSticky(t, s, expectedMember(t, "modulo", baseMembers, store))
	}
}

func testNoMembers(t *testing.T, build Builder) {
	rec := &recorder{}
	config := baseConfig()
	config["members"] = []any{}
	h := mustBuild(t, build, rec, config, "no-members")
	for _, target := range []string{prefix + "/00123-001", "/api/catalog"} {
		_, s := serve(h, rec, target, "Cookie", cookieName+"="+stickyValue("pos-0")+"; theme=dark", "X-Store-Affinity", "member=pos-0")
		if !s.called || len(s.sticky) != 0 || s.affinity != "" {
			t.Errorf("%s without members: next called %v with sticky %v and affinity %q; want called, neither", target, s.called, s.sticky, s.affinity)
		}
		if strings.Join(s.cookies, ";") != "theme=dark" {
			t.Errorf("%s without members: Cookie headers %q, want the client's other cookie", target, s.cookies)
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
