package behaviour

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/storeaffinity/storeaffinity/internal/wsclient"
)

// STOMP sessions routed by the device of their CONNECT frame, and the sessions the
// middleware refuses or ends.

func testStompSessionsFollowTheirStore(t *testing.T, build Builder) {
	server := stompServer(t, build, stompConfig(), "stomp-follow", baseMembers)
	for _, store := range storeNames(12) {
		member := expectedMember(t, "", baseMembers, store)
		for _, device := range []string{store + "-001", store + "-002"} {
			s, err := wsclient.Dial(server.URL, stompPath, map[string]string{
				"Sec-WebSocket-Extensions": "permessage-deflate; client_max_window_bits",
				"Cookie":                   cookieName + "=" + stickyValue("pos-0") + "; theme=dark",
				"X-Store-Affinity":         "store=x; member=pos-0",
			})
			if err != nil {
				t.Fatal(err)
			}
			if got := s.Response.Header.Get("Sec-Websocket-Protocol"); got != "v12.stomp" || s.Response.Header.Get("Sec-Websocket-Extensions") != "" {
				t.Errorf("the client was told subprotocol %q, extensions %q; want v12.stomp and none", got, s.Response.Header.Get("Sec-Websocket-Extensions"))
			}
			if err := s.SendText(wsclient.ConnectFrame(device)); err != nil {
				t.Fatal(err)
			}
			h := connectedHeaders(t, s)
			want := map[string]string{"replica": member, "device": device, "subprotocol": "v12.stomp", "affinity": "store=" + store + "; member=" + member}
			for k, v := range want {
				if h[k] != v {
					t.Errorf("device %s: the backend saw %s %q, want %q", device, k, h[k], v)
				}
			}
			// Frames go both ways unchanged, and the backend agreed to no compression.
			if err := s.SendText("SEND\ndestination:/app/x\n\nhello\x00"); err != nil {
				t.Fatal(err)
			}
			if f, err := s.Read(); err != nil || string(f.Payload) != "SEND\ndestination:/app/x\n\nhello\x00" {
				t.Errorf("device %s: echo %q, %v", device, f.Payload, err)
			}
			s.Close()
		}
	}
}

func testBadStompSessions(t *testing.T, build Builder) {
	server := stompServer(t, build, stompConfig(), "stomp-bad", baseMembers)
	for _, o := range BadStompOpenings {
		if err := CheckBadStompOpening(server.URL, stompPath, o); err != nil {
			t.Errorf("%s: %v", o.Name, err)
		}
	}
	// Subprotocols are split at commas only: "v12.stomp v11.stomp" is one, not STOMP.
	for _, offer := range []string{"chat", "v12.stomp v11.stomp"} {
		s, err := wsclient.Dial(server.URL, stompPath, map[string]string{"Sec-WebSocket-Protocol": offer})
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		if s.Response.StatusCode != http.StatusBadRequest {
			t.Errorf("a handshake offering %q got %d, want 400", offer, s.Response.StatusCode)
		}
	}
}

func testMissingStompDeviceRoundRobin(t *testing.T, build Builder) {
	config := stompConfig()
	config["missingDeviceId"] = "roundRobin"
	server := stompServer(t, build, config, "stomp-roundrobin", baseMembers)
	seen := map[string]bool{}
	for i := 0; i < 6; i++ {
		s, err := wsclient.Dial(server.URL, stompPath, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.SendText(wsclient.ConnectFrame("")); err != nil {
			t.Fatal(err)
		}
		h := connectedHeaders(t, s)
		s.Close()
		seen[h["replica"]] = true
		if h["affinity"] != "" {
			t.Errorf("a session without a device ID reached its backend with stamp %q", h["affinity"])
		}
	}
	if len(seen) != len(baseMembers) {
		t.Errorf("6 sessions without a device ID reached %v, want every member in turn", seen)
	}
}

func testMovedStoreStompSessionEnds(t *testing.T, build Builder) {
	const grace = 200 * time.Millisecond
	config := stompConfig()
	config["rebalanceGrace"] = grace.String()
	scaled := append(append([]string{}, baseMembers...), "pos-3")
	service := newStickyService(t, scaled)
	h := mustBuild(t, build, service, config, "stomp-move")
	server := httptest.NewServer(h)
	defer server.Close()
	store := ""
	for _, s := range storeNames(100) {
		if expectedMember(t, "", baseMembers, s) != expectedMember(t, "", scaled, s) {
			store = s
			break
		}
	}
	s, err := wsclient.Dial(server.URL, stompPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.SendText(wsclient.ConnectFrame(store + "-001")); err != nil {
		t.Fatal(err)
	}
	connectedHeaders(t, s)
	config["members"] = scaled
	changed := time.Now()
	mustBuild(t, build, service, config, "stomp-move")
	end := s.ReadUntilClose()
	if elapsed := time.Since(changed); end.Code != 1012 || elapsed < grace-20*time.Millisecond || elapsed > grace+2*time.Second {
		t.Errorf("the moved store's session: %v after %v, want close 1012 after the %v grace", end, elapsed, grace)
	}
}

func testStompPreConnectBounds(t *testing.T, build Builder) {
	server := stompServer(t, build, stompConfig(), "stomp-bounds", baseMembers)
	for _, tc := range []struct {
		name string
		send func(s *wsclient.Socket) error
		code int
		want string
	}{
		{"pings and a CONNECT past 16 KiB together", func(s *wsclient.Socket) error {
			for i := 0; i < 60; i++ {
				if err := s.Send(0x9, []byte(strings.Repeat("p", 125))); err != nil {
					return err
				}
			}
			return s.SendText(wsclient.ConnectFrame("00123-001", "x:"+strings.Repeat("x", 9<<10)))
		}, 1009, "16 KiB"},
		{"more than 64 frames before the CONNECT's headers end", func(s *wsclient.Socket) error {
			if err := s.SendFrame(false, 0x1, []byte("CONNECT\n")); err != nil {
				return err
			}
			for i := 0; i < 100; i++ {
				if s.SendFrame(false, 0x0, nil) != nil {
					break // the middleware closed the connection past the 64th frame
				}
			}
			return nil
		}, 1009, "64 frames"},
		{"a reserved opcode", func(s *wsclient.Socket) error { return s.Send(0x3, []byte("CONNECT\n\n\x00")) }, 1002, "opcode"},
	} {
		s, err := wsclient.Dial(server.URL, stompPath, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := tc.send(s); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		end := s.ReadUntilClose()
		s.Close()
		if end.Code != tc.code || !strings.Contains(end.Reason, tc.want) {
			t.Errorf("%s: %v, want close %d saying %q", tc.name, end, tc.code, tc.want)
		}
	}
	// A ';' parameter on the STOMP path: a servlet backend serves it as the STOMP path.
	for _, path := range []string{stompPath + ";jsessionid=1", "/api;x/websocket"} {
		s, err := wsclient.Dial(server.URL, path, nil)
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		if s.Response.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: handshake answered %d, want 400", path, s.Response.StatusCode)
		}
	}
}

func testStompSessionNamedInURL(t *testing.T, build Builder) {
	server := stompServer(t, build, stompConfig(), "stomp-named", baseMembers)
	// The URL names the session's own device: routed as by its CONNECT frame.
	s, err := wsclient.Dial(server.URL, stompPath+"?deviceId=00123-001", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SendText(wsclient.ConnectFrame("00123-001")); err != nil {
		t.Fatal(err)
	}
	if h := connectedHeaders(t, s); h["replica"] != expectedMember(t, "", baseMembers, "00123") {
		t.Errorf("a session that names its device in its URL and CONNECT frame reached %q", h["replica"])
	}
	s.Close()
	// The URL names another device than the CONNECT frame, which the backend acts on:
	// refused, so that a URL cannot send a device's session to another store's member.
	s, err = wsclient.Dial(server.URL, stompPath+"?deviceId=00456-001", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.SendText(wsclient.ConnectFrame("00123-001")); err != nil {
		t.Fatal(err)
	}
	if end := s.ReadUntilClose(); end.Code != 1008 || !strings.Contains(end.Reason, "two different device IDs") {
		t.Errorf("URL and CONNECT frame naming two devices: %v, want close 1008", end)
	}
}
