package behaviour

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/storeaffinity/storeaffinity/internal/wsclient"
)

// STOMP sessions at the edges of their configuration and bounds, and backends that
// answer the hand-back with a handshake the client was never told of.

func testStompDeviceHeaderConfigured(t *testing.T, build Builder) {
	config := stompConfig()
	config["stompDeviceIdHeader"] = "nodeId"
	server := stompServer(t, build, config, "stomp-nodeid", baseMembers)
	// The frame's deviceId names a device of store a, its nodeId one of store b, and
	// the two stores are on different members.
	stores := storeNames(20)
	a, b := stores[0], ""
	for _, store := range stores[1:] {
		if expectedMember(t, "", baseMembers, store) != expectedMember(t, "", baseMembers, a) {
			b = store
			break
		}
	}
	member := expectedMember(t, "", baseMembers, b)
	s, err := wsclient.DialSession(server.URL, stompPath)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.SendText(wsclient.ConnectFrame(a+"-001", "nodeId:"+b+"-001")); err != nil {
		t.Fatal(err)
	}
	if h := connectedHeaders(t, s); h["replica"] != member || h["affinity"] != "store="+b+"; member="+member {
		t.Errorf("stompDeviceIdHeader nodeId, a CONNECT with deviceId of store %s and nodeId of store %s: the backend %q saw stamp %q, want %s and store=%s; member=%s",
			a, b, h["replica"], h["affinity"], member, b, member)
	}
	// deviceId alone names no device once another header is configured.
	if err := CheckBadStompOpening(server.URL, stompPath, BadStompOpening{First: wsclient.ConnectFrame(a + "-001"), Code: 1008, Want: "no device ID"}); err != nil {
		t.Errorf("stompDeviceIdHeader nodeId, a CONNECT with deviceId only: %v", err)
	}
}

func testStompConnectBoundEdge(t *testing.T, build Builder) {
	const bound = 16 << 10
	server := stompServer(t, build, stompConfig(), "stomp-edge", baseMembers)
	member := expectedMember(t, "", baseMembers, "00123")
	ping := make([]byte, 125) // 131 bytes on the wire, with 2 header bytes and the mask
	for _, tc := range []struct {
		name  string
		pings int
		size  int // the client's bytes up to the end of the CONNECT frame
		code  int // 0: routed
	}{
		{"a CONNECT frame of exactly 16 KiB", 0, bound, 0},
		{"a CONNECT frame of 16 KiB and a byte", 0, bound + 1, 1009},
		{"pings and a CONNECT frame of exactly 16 KiB together", 4, bound, 0},
		{"pings and a CONNECT frame of 16 KiB and a byte together", 4, bound + 1, 1009},
	} {
		s, err := wsclient.DialSession(server.URL, stompPath)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < tc.pings; i++ {
			if err := s.Send(0x9, ping); err != nil {
				t.Fatal(err)
			}
		}
		// The CONNECT frame takes 2+2 header bytes and a 4-byte mask besides its payload.
		pad := tc.size - tc.pings*(6+len(ping)) - 8 - len(wsclient.ConnectFrame("00123-001", "pad:"))
		if err := s.SendText(wsclient.ConnectFrame("00123-001", "pad:"+strings.Repeat("x", pad))); err != nil {
			t.Fatal(err)
		}
		f, err := s.Read()
		switch first, _, _ := strings.Cut(string(f.Payload), "\n"); {
		case tc.code == 0 && (first != "CONNECTED" || !strings.Contains(string(f.Payload), "\nreplica:"+member+"\n")):
			t.Errorf("%s: first frame %.100q (%v), want CONNECTED from %s", tc.name, f.Payload, err, member)
		case tc.code != 0 && first != "ERROR":
			t.Errorf("%s: first frame %.100q (%v), want an ERROR frame, then close %d", tc.name, f.Payload, err, tc.code)
		case tc.code != 0:
			if end := s.ReadUntilClose(); end.Code != tc.code || !strings.Contains(end.Reason, "16 KiB") {
				t.Errorf("%s: an ERROR frame, then %v, want close %d saying 16 KiB", tc.name, end, tc.code)
			}
		}
		s.Close()
	}
}

func testStompBackendDisagreementEnds(t *testing.T, build Builder) {
	service := newStickyService(t, baseMembers)
	for _, tc := range []struct {
		name, header, value, want string
	}{
		{"a 101 agreeing to an extension the client was not offered", "Sec-WebSocket-Extensions", "permessage-deflate", "extensions"},
		{"a 101 choosing another subprotocol than the client was told", "Sec-WebSocket-Protocol", "v11.stomp", "subprotocol"},
	} {
		// Behind the middleware, the backend is offered what the client never was, and
		// its 101 agrees to it.
		next := http.HandlerFunc(func(rw http.ResponseWriter, req *http.Request) {
			req.Header.Set(tc.header, tc.value)
			service.ServeHTTP(rw, req)
		})
		server := httptest.NewServer(mustBuild(t, build, next, stompConfig(), "stomp-disagree"))
		o := BadStompOpening{Name: tc.name, First: wsclient.ConnectFrame("00123-001"), Code: 1014, Want: tc.want}
		if err := CheckBadStompOpening(server.URL, stompPath, o); err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
		server.Close()
	}
}
