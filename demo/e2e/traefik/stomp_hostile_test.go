package traefik

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/storeaffinity/storeaffinity/demo/commerce"
	"github.com/storeaffinity/storeaffinity/demo/harness/stack"
	"github.com/storeaffinity/storeaffinity/internal/behaviour"
	"github.com/storeaffinity/storeaffinity/internal/wsclient"
)

// TestBadStompSessionsGetAClearEnd sends, through Traefik, each kind of bad OpenPOS
// handshake and first frame, and checks the one-line answer: an HTTP 400 before the
// upgrade, or a STOMP ERROR frame and a close code after it.
func TestBadStompSessionsGetAClearEnd(t *testing.T) {
	e := start(t, setup{app: stompApp})
	refused := []struct {
		name    string
		headers map[string]string
		want    string
	}{
		{"no STOMP subprotocol offered", map[string]string{"Sec-WebSocket-Protocol": "chat"}, "offers no STOMP subprotocol"},
		{"an old WebSocket version", map[string]string{"Sec-WebSocket-Version": "8"}, "Sec-WebSocket-Version 13"},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			s, err := wsclient.Dial(e.traefik.WebURL, commerce.StompPath, tc.headers)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			body := make([]byte, 512)
			n, _ := s.Response.Body.Read(body)
			if s.Response.StatusCode != http.StatusBadRequest || !strings.Contains(string(body[:n]), tc.want) {
				t.Errorf("status %d %q, want 400 saying %q", s.Response.StatusCode, body[:n], tc.want)
			}
		})
	}
	for _, o := range behaviour.BadStompOpenings {
		t.Run(o.Name, func(t *testing.T) {
			if err := behaviour.CheckBadStompOpening(e.traefik.WebURL, commerce.StompPath, o); err != nil {
				t.Error(err)
			}
		})
	}
	for _, u := range behaviour.StompUpgradesWithABody {
		t.Run("an upgrade with a body: "+u.Name, func(t *testing.T) {
			if err := behaviour.CheckStompUpgradeWithBody(e.traefik.WebURL, commerce.StompPath, u.Headers, u.Body); err != nil {
				t.Error(err)
			}
		})
	}
	t.Run("no CONNECT in time", func(t *testing.T) {
		s, err := wsclient.Dial(e.traefik.WebURL, commerce.StompPath, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		started := time.Now()
		end := s.ReadUntilClose()
		if waited := time.Since(started); end.Code != 1008 || !strings.Contains(end.Reason, "no CONNECT frame within") || waited < 9*time.Second || waited > 12*time.Second {
			t.Errorf("%v after %v, want close 1008 after 10s", end, waited)
		}
	})
	e.traefik.CheckNoPanic(t)
}

// TestStompClientCannotChooseItsMember sends a CONNECT with a forged stamp and the
// sticky cookie of another member, and checks that the session reaches the store's
// member, whose backend reads the middleware's stamp only, with the subprotocol the
// client was told, and never an extension.
func TestStompClientCannotChooseItsMember(t *testing.T) {
	e := start(t, setup{app: stompApp})
	owner := e.restOwners(t, []string{"00123"})["00123"]
	other := "pos-0"
	if owner == other {
		other = "pos-1"
	}
	s, err := wsclient.Dial(e.traefik.WebURL, commerce.StompPath, map[string]string{
		"Cookie":                   stickyCookie + "=" + stickyValue(member(other)) + "; theme=dark",
		"X-Store-Affinity":         affinity("00999", member(other)),
		"X_Store_Affinity":         affinity("00999", member(other)),
		"Sec-WebSocket-Extensions": "permessage-deflate; client_max_window_bits",
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := s.Response.Header.Get("Sec-WebSocket-Protocol"); got != "v12.stomp" || s.Response.Header.Get("Sec-WebSocket-Extensions") != "" {
		t.Errorf("the client was told subprotocol %q and extensions %q, want v12.stomp and none", got, s.Response.Header.Get("Sec-WebSocket-Extensions"))
	}
	if err := s.SendText(wsclient.ConnectFrame("00123-001")); err != nil {
		t.Fatal(err)
	}
	f, err := s.Read()
	if err != nil {
		t.Fatal(err)
	}
	connected := string(f.Payload)
	for _, want := range []string{"replica:" + owner + "\n", "subprotocol:v12.stomp\n", "affinity:" + affinity("00123", member(owner)) + "\n"} {
		if !strings.Contains(connected, want) {
			t.Errorf("CONNECTED frame %q lacks %q", connected, want)
		}
	}
}

// TestStompBackendFailuresEndTheSession points the app at backends that cannot take
// a STOMP session: down, refusing the upgrade, and agreeing to no subprotocol. Each
// ends the client's session with a STOMP ERROR and close 1014 saying why.
func TestStompBackendFailuresEndTheSession(t *testing.T) {
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	downURL := "http://" + closed.Addr().String()
	_ = closed.Close()
	refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "no sockets here", http.StatusForbidden)
	}))
	defer refusing.Close()
	noSubprotocol := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		conn, err := websocket.Accept(w, req, nil)
		if err == nil {
			_, _, _ = conn.Read(req.Context())
			_ = conn.CloseNow()
		}
	}))
	defer noSubprotocol.Close()
	for _, tc := range []struct {
		name, url, want string
	}{
		{"down", downURL, "HTTP 502"},
		{"refusing the upgrade", refusing.URL, "HTTP 403"},
		{"agreeing to no subprotocol", noSubprotocol.URL, `the backend chose subprotocol ""`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := start(t, setup{replicas: 1, members: []string{"pos-0"}, app: stack.App{Static: []string{"pos-0=" + tc.url}, Extra: stompApp.Extra}})
			s, err := wsclient.Dial(e.traefik.WebURL, commerce.StompPath, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if err := s.SendText(wsclient.ConnectFrame("00123-001")); err != nil {
				t.Fatal(err)
			}
			end := s.ReadUntilClose()
			if end.Code != 1014 || !strings.Contains(end.Reason, tc.want) || len(end.Frames) != 1 || !strings.HasPrefix(end.Frames[0], "ERROR\n") {
				t.Errorf("%v, want an ERROR frame, then close 1014 saying %q", end, tc.want)
			}
		})
	}
}
