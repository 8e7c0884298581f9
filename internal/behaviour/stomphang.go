package behaviour

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"testing"
	"time"

	"github.com/storeaffinity/storeaffinity/internal/wsclient"
)

// testStompClientLeavesWhileMemberHangs opens a session whose member accepts the
// upgrade but never answers it, and closes the client meanwhile: the middleware must
// let go at once, as it does a REST request, cancelling next, so that the backend
// connection closes and the store is no longer tracked.
func testStompClientLeavesWhileMemberHangs(t *testing.T, build Builder, liveStores LiveStoresFunc) {
	closeFrame := wsclient.MaskedFrame(true, 0x8, []byte{0x03, 0xe8})
	for _, tc := range []struct {
		name  string
		first []byte // what the client sends: a CONNECT frame, and maybe more
		then  []byte // what it sends before it leaves
	}{
		{"leaves", connectBytes, nil},
		{"sends a close frame, then leaves", connectBytes, closeFrame},
		{"sends CONNECT and a SUBSCRIBE in one write, then leaves", append(append([]byte{}, connectBytes...),
			wsclient.MaskedFrame(true, 0x1, []byte("SUBSCRIBE\nid:1\ndestination:/topic/x\n\n\x00"))...), nil},
	} {
		t.Run(tc.name, func(t *testing.T) { testStompClientLeaves(t, build, liveStores, tc.first, tc.then) })
	}
}

func testStompClientLeaves(t *testing.T, build Builder, liveStores LiveStoresFunc, first, then []byte) {
	let := make(chan struct{})
	accepted, backendClosed := make(chan struct{}, 1), make(chan struct{}, 1)
	hanging := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		accepted <- struct{}{}
		go func() { <-let; _ = conn.Close() }()
		one := make([]byte, 1)
		if _, err := conn.Read(one); err != nil { // the proxy sends nothing more: EOF when it lets go
			backendClosed <- struct{}{}
		}
	}))
	defer hanging.Close()
	defer close(let)
	target, _ := url.Parse(hanging.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	service := stickyService{}
	for _, m := range baseMembers {
		service[stickyValue(m)] = proxy
	}
	const name = "stomp-hang"
	server := httptest.NewServer(mustBuild(t, build, service, stompConfig(), name))
	defer server.Close()

	s, err := wsclient.DialSession(server.URL, stompPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SendRaw(first); err != nil {
		t.Fatal(err)
	}
	select {
	case <-accepted:
	case <-time.After(5 * time.Second):
		t.Fatal("the session never reached its member")
	}
	if n := liveStores(name); n != 1 {
		t.Fatalf("the session reached its member, and %d stores are tracked, want 1", n)
	}
	if then != nil {
		_ = s.SendRaw(then)
	}
	s.Close()
	left := time.Now()
	select {
	case <-backendClosed:
	case <-time.After(3 * time.Second):
		t.Fatalf("the client left, but 3 s later the hanging member's connection is still open")
	}
	for liveStores(name) != 0 && time.Since(left) < 3*time.Second {
		time.Sleep(10 * time.Millisecond)
	}
	if n := liveStores(name); n != 0 {
		t.Errorf("the client left, but 3 s later its store is still tracked (%d live stores)", n)
	}
}
