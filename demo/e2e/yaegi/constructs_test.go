package yaegi

import (
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/traefik/yaegi/interp"
	"github.com/traefik/yaegi/stdlib"
)

// constructsHead is an interpreted middleware whose ServeHTTP runs one construct and
// then calls next; the construct's cost is its allocations over the bare call's.
const constructsHead = `package constructs

import (
	"net/http"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
)

var _ = strings.HasPrefix

type route struct{ cookie string }

type handler struct {
	next   http.Handler
	prefix string
	key    string
	value  []string
	re     *regexp.Regexp
	mu     sync.RWMutex
	routes map[string]*route
	turn   atomic.Uint64
	n      uint64
	call   func(*http.Request, string) *route // a method value, set once as the middleware's dispatch is
}

func small(s string) string { return s }

func (h *handler) self() *handler { return h }

func self(h *handler) *handler { return h }

// Make returns the middleware over next.
func Make(next http.Handler) http.Handler {
	h := &handler{next: next, prefix: "/api/appId/", key: "X-Store-Affinity", value: []string{"x=y"}, n: 3,
		re: regexp.MustCompile("^/api/appId/[^/]+/deviceId/([^/]+)"), routes: map[string]*route{"00001-001": {cookie: "c=v"}}}
	h.call = h.selfOf
	return h
}

func (h *handler) selfOf(req *http.Request, s string) *route { return nil }

func selfOf(h *handler, req *http.Request, s string) *route { return nil }

func (h *handler) ServeHTTP(rw http.ResponseWriter, req *http.Request) {
`

// interpretedConstructs are the constructs of the request path, as the middleware
// writes them.
var interpretedConstructs = []struct{ name, body string }{
	{"bare call of next", ``},
	{"field comparison", `if req.URL.RawPath != "" { h.n++ }`},
	{"strings.HasPrefix", `if strings.HasPrefix(req.URL.Path, h.prefix) { h.n++ }`},
	{"regexp FindStringSubmatch", `if h.re.FindStringSubmatch(req.URL.Path) == nil { h.n++ }`},
	{"interpreted call", `small(h.prefix)`},
	{"interpreted method call", `if h.self() == nil { h.n++ }`},
	{"interpreted function call", `if self(h) == nil { h.n++ }`},
	{"method value in a func field, two arguments", `if h.call(req, h.prefix) != nil { h.n++ }`},
	{"interpreted method call, two arguments", `if h.selfOf(req, h.prefix) != nil { h.n++ }`},
	{"interpreted function call, three arguments", `if selfOf(h, req, h.prefix) != nil { h.n++ }`},
	{"header map read", `if req.Header["Cookie"] == nil { h.n++ }`},
	{"header map write", `req.Header["Cookie"] = h.value`},
	{"header delete", `delete(req.Header, h.key)`},
	{"response header write", `rw.Header()[h.key] = h.value`},
	{"route lookup under RLock", `h.mu.RLock(); r := h.routes["00001-001"]; h.mu.RUnlock(); if r == nil { h.n++ }`},
	{"atomic round-robin turn", `if h.turn.Add(1)%h.n == 7 { h.n++ }`},
	{"string concatenation", `req.Header["Cookie"] = []string{h.prefix + h.key}`},
	{"cookie merge, one line", `if v := req.Header["Cookie"]; v == nil { req.Header["Cookie"] = h.value } else if len(v) == 1 && len(v[0]) <= 32768 && strings.Count(v[0], ";") < 200 && !strings.Contains(v[0], h.key) { req.Header["Cookie"] = []string{h.prefix + v[0]} }`},
	{"cookie as a second line", `if v := req.Header["Cookie"]; v == nil { req.Header["Cookie"] = h.value } else if len(v) == 1 { req.Header["Cookie"] = []string{h.prefix, v[0]} }`},
	{"SSE or upgrade check", `if req.Header["Upgrade"] != nil || strings.Contains(req.Header.Get("Accept"), "text/event-stream") { h.n++ }`},
	{"cookie merge, short line", `if v := req.Header["Cookie"]; v == nil { req.Header["Cookie"] = h.value } else if len(v) == 1 && len(v[0]) < 200 && !strings.Contains(v[0], h.key) { req.Header["Cookie"] = []string{h.prefix + v[0]} }`},
}

// BenchmarkInterpretedConstructs reports what each construct of the request path
// costs under Yaegi, in allocations per request (exact) and time: the cost model
// behind the middleware's shape. It is a diagnostic, not a verdict.
func BenchmarkInterpretedConstructs(b *testing.B) {
	for _, c := range interpretedConstructs {
		b.Run(c.name, func(b *testing.B) {
			i := interp.New(interp.Options{})
			if err := i.Use(stdlib.Symbols); err != nil {
				b.Fatal(err)
			}
			if _, err := i.Eval(constructsHead + c.body + "\n\th.next.ServeHTTP(rw, req)\n}\n"); err != nil {
				b.Fatalf("%s: %v", c.name, err)
			}
			mk, err := i.Eval("constructs.Make")
			if err != nil {
				b.Fatal(err)
			}
			h := mk.Call([]reflect.Value{reflect.ValueOf(http.Handler(noop))})[0].Interface().(http.Handler)
			req := httptest.NewRequest(http.MethodGet, "/api/appId/pos/deviceId/00001-001/sale", nil)
			req.Header.Set("Accept", "application/json")
			rw := httptest.NewRecorder()
			b.ReportAllocs()
			b.ResetTimer()
			for n := 0; n < b.N; n++ {
				req.Header["Cookie"] = []string{"session=abc"}
				h.ServeHTTP(rw, req)
			}
		})
	}
}
