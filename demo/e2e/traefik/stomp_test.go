package traefik

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/storeaffinity/storeaffinity/demo/commerce"
	"github.com/storeaffinity/storeaffinity/demo/fleet"
	"github.com/storeaffinity/storeaffinity/demo/stack"
)

// stompApp routes the OpenPOS WebSocket by the device its CONNECT frame names.
var stompApp = stack.App{Extra: map[string]any{"stompConnectPaths": commerce.StompPath}}

// openPOS returns a POS and a CX display session of every store, as the OpenPOS
// client names them in CONNECT.
func openPOS(stores []string) []stack.StompSession {
	var sessions []stack.StompSession
	for _, store := range stores {
		sessions = append(sessions,
			stack.StompSession{DeviceID: store + "-" + fleet.POS, AppID: "pos"},
			stack.StompSession{DeviceID: store + "-" + fleet.CX, AppID: "customerdisplay"})
	}
	return sessions
}

// startStomp starts the real @stomp/stompjs client with sessions against e's Traefik
// and waits until every session is connected.
func startStomp(t *testing.T, e *env, sessions []stack.StompSession) *stack.StompClients {
	t.Helper()
	url := "ws" + strings.TrimPrefix(e.traefik.WebURL, "http") + commerce.StompPath
	clients, err := stack.StartStompClients(url, sessions, 200*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(clients.Close)
	waitStompConnected(t, clients, len(sessions), 30*time.Second)
	return clients
}

// waitStompConnected waits until n sessions are connected.
func waitStompConnected(t *testing.T, clients *stack.StompClients, n int, timeout time.Duration) {
	t.Helper()
	err := stack.Poll(t.Context(), timeout, func(context.Context) error {
		if got := len(clients.Connected()); got < n {
			return fmt.Errorf("%d of %d STOMP sessions connected", got, n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestStompSessionsMeetOnTheirStoresMember connects 30 stores' POS and CX display with
// the real OpenPOS client library, which names its device only in the CONNECT frame,
// and checks that both sessions of every store reach the replica that serves the
// store's REST calls, with the agreed subprotocol and the middleware's stamp.
func TestStompSessionsMeetOnTheirStoresMember(t *testing.T) {
	e := start(t, setup{app: stompApp})
	stores := fleet.StoreIDs(30)
	clients := startStomp(t, e, openPOS(stores))
	owners := e.restOwners(t, stores)
	connected := clients.Connected()
	together := 0
	for _, store := range stores {
		pos, cx := connected[store+"-"+fleet.POS], connected[store+"-"+fleet.CX]
		if pos == owners[store] && cx == owners[store] {
			together++
			continue
		}
		t.Errorf("store %s: POS on %q, CX display on %q, REST on %q", store, pos, cx, owners[store])
	}
	t.Logf("%d of %d stores had their POS and CX display on their REST owner", together, len(stores))
}
