package storeaffinity_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/storeaffinity/storeaffinity"
)

// fuzzMiddleware builds the middleware the fuzz targets attack, with next recording
// what reaches it.
func fuzzMiddleware(f *testing.F, name string) (http.Handler, *fuzzNext) {
	config := storeaffinity.CreateConfig()
	config.DeviceAffinityPrefixes = []string{"/api/appId/pos/deviceId"}
	config.DeviceIDHeader = "X-Device-Id"
	config.DeviceIDQuery = "deviceId"
	config.Members = []string{"pos-0", "pos-1", "pos-2"}
	config.StickyCookie = "pos_affinity"
	next := &fuzzNext{}
	h, err := storeaffinity.New(context.Background(), next, config, name)
	if err != nil {
		f.Fatal(err)
	}
	return h, next
}

// fuzzNext records the request that reached it.
type fuzzNext struct {
	called bool
	req    *http.Request
}

func (n *fuzzNext) ServeHTTP(rw http.ResponseWriter, req *http.Request) {
	n.called, n.req = true, req
}

var stickyMember = map[string]string{}

func init() {
	for _, m := range []string{"pos-0", "pos-1", "pos-2"} {
		stickyMember[storeaffinity.StickyValue(m)] = m
	}
}

var stampPattern = regexp.MustCompile(`^store=([A-Za-z0-9._~-]+); member=(pos-[012])$`)

// FuzzDeviceID sends a device ID by path, header and query at once, each arbitrary.
// The middleware never panics; it answers 400 with one line, or passes the request on
// with exactly one valid sticky cookie and at most one stamp, whose store is the one a
// backend derives from the device ID it reads, and whose member owns the cookie.
func FuzzDeviceID(f *testing.F) {
	seeds := [][3]string{
		{"00123-001", "", ""}, {"", "00123-001", ""}, {"", "", "deviceId=00123-001"},
		{"00123-001", "00123-001", "deviceId=00123-001"}, {"00123-001", "00456-001", ""},
		{"", "", "device%49d=00123-001"}, {"", "00123-a%2D1", ""}, {"a%2Fb-1", "", ""},
		{"..-1", "", ""}, {"%zz-1", "", ""}, {"00001;%20member=pos-0;%20x=0-001", "", ""},
		{"", "", "deviceId=1-1&deviceId=2-2"}, {"", "", "x=%zz&deviceId=00123-001"},
		{"", "München-1", ""}, {strings.Repeat("7", 200), "", ""}, {"", "", "deviceId=a+b-1"},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1], s[2])
	}
	h, next := fuzzMiddleware(f, "fuzz-device")
	f.Fuzz(func(t *testing.T, segment, header, rawQuery string) {
		u, err := url.Parse("/api/appId/pos/deviceId/" + segment + "/sale")
		if err != nil || strings.ContainsAny(rawQuery, "#") {
			t.Skip()
		}
		u.RawQuery = rawQuery
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.URL = u
		if header != "" {
			req.Header["X-Device-Id"] = []string{header}
		}
		*next = fuzzNext{}
		rw := httptest.NewRecorder()
		h.ServeHTTP(rw, req)
		if !next.called {
			if body := rw.Body.String(); rw.Code != http.StatusBadRequest || !strings.HasPrefix(body, "storeaffinity: ") || strings.Count(body, "\n") != 1 {
				t.Fatalf("next not called: status %d, body %q", rw.Code, body)
			}
			return
		}
		member := oneSticky(t, next.req)
		stamps := next.req.Header["X-Store-Affinity"]
		if len(stamps) != 1 {
			t.Fatalf("stamps %q, want exactly one", stamps)
		}
		match := stampPattern.FindStringSubmatch(stamps[0])
		if match == nil || match[2] != member {
			t.Fatalf("stamp %q, sticky cookie of %s", stamps[0], member)
		}
		if want := backendStore(t, req.URL, header); match[1] != want {
			t.Fatalf("stamped store %q, a backend reads store %q", match[1], want)
		}
	})
}

// backendStore is the store a backend derives from the device IDs it reads: all of
// them must agree, or the middleware must not have passed the request on.
func backendStore(t *testing.T, u *url.URL, header string) string {
	var ids []string
	segment := strings.SplitN(strings.TrimPrefix(u.EscapedPath(), "/api/appId/pos/deviceId/"), "/", 2)[0]
	if id, err := url.PathUnescape(segment); err == nil {
		ids = append(ids, id)
	} else {
		t.Fatalf("path segment %q does not decode, yet it was routed", segment)
	}
	if header != "" {
		ids = append(ids, header)
	}
	values, _ := url.ParseQuery(u.RawQuery)
	ids = append(ids, values["deviceId"]...)
	for _, id := range ids[1:] {
		if id != ids[0] {
			t.Fatalf("the request carries device IDs %q, yet it was routed", ids)
		}
	}
	return ids[0][:strings.LastIndexByte(ids[0], '-')]
}

// oneSticky returns the member of the one valid sticky cookie Go reads in req.
func oneSticky(t *testing.T, req *http.Request) string {
	var members []string
	for _, c := range req.Cookies() {
		if c.Name == "pos_affinity" {
			members = append(members, stickyMember[c.Value])
		}
	}
	if len(members) != 1 || members[0] == "" {
		t.Fatalf("sticky cookies of members %q in %q, want exactly one valid", members, req.Header["Cookie"])
	}
	return members[0]
}

// FuzzCookieMerge sends arbitrary Cookie headers on a stateless and on a stateful
// request. The middleware answers 431, or passes on exactly one valid sticky cookie
// and every other cookie Go reads in the client's header, unchanged.
func FuzzCookieMerge(f *testing.F) {
	for _, seed := range []string{
		"", "session=abc", "pos_affinity=333aaef495084db5", "a=1; pos_affinity=x; b=2", " pos_affinity =x",
		"pos_affinity", ";;;", "a=\"q;b\"; c=d", "x=pos_affinity", strings.Repeat("c=v; ", 300),
	} {
		f.Add(seed, "")
	}
	f.Add("a=1", "pos_affinity=ffffffffffffffff; b=2")
	h, next := fuzzMiddleware(f, "fuzz-cookie")
	f.Fuzz(func(t *testing.T, first, second string) {
		for _, path := range []string{"/api/catalog", "/api/appId/pos/deviceId/00123-001/sale"} {
			checkCookieMerge(t, h, next, path, first, second)
		}
	})
}

// checkCookieMerge sends the Cookie headers first and second (when not empty) on a
// request of path, and checks the cookies that reach next.
func checkCookieMerge(t *testing.T, h http.Handler, next *fuzzNext, path, first, second string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for _, v := range []string{first, second} {
		if v != "" {
			req.Header.Add("Cookie", v)
		}
	}
	sent := req.Cookies()
	*next = fuzzNext{}
	rw := httptest.NewRecorder()
	h.ServeHTTP(rw, req)
	if !next.called {
		if rw.Code != http.StatusRequestHeaderFieldsTooLarge {
			t.Fatalf("next not called: status %d %q", rw.Code, rw.Body.String())
		}
		return
	}
	oneSticky(t, next.req)
	kept := map[string]int{}
	for _, c := range next.req.Cookies() {
		kept[c.Name+"="+c.Value]++
	}
	for _, c := range sent {
		if c.Name == "pos_affinity" {
			continue
		}
		if kept[c.Name+"="+c.Value] == 0 {
			t.Fatalf("cookie %s=%s of %q was dropped; forwarded %q", c.Name, c.Value, []string{first, second}, next.req.Header["Cookie"])
		}
		kept[c.Name+"="+c.Value]--
	}
}
