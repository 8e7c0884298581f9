package commerce

import (
	"bytes"
	"net/http"
	"strings"

	"github.com/coder/websocket"
)

// StompPath is the OpenPOS client's WebSocket: it names its device only in the first
// STOMP frame, CONNECT, with the header deviceId.
const StompPath = "/api/websocket"

// KindStomp is a STOMP session over the OpenPOS WebSocket.
const KindStomp = "stomp"

// serveStomp speaks just enough STOMP 1.2 over WebSocket for the OpenPOS client: it
// answers CONNECT with a CONNECTED frame that names the replica (header "replica"),
// and every SEND with a MESSAGE of the same body to the sender's subscription, so
// that a client can measure a message's round trip.
func (r *Replica) serveStomp(w http.ResponseWriter, req *http.Request) {
	conn, err := websocket.Accept(w, req, &websocket.AcceptOptions{Subprotocols: []string{"v12.stomp", "v11.stomp", "v10.stomp"}})
	if err != nil {
		return
	}
	defer conn.CloseNow()
	ctx, untrack := r.track(req.Context())
	defer untrack()
	_, first, err := conn.Read(ctx)
	if err != nil {
		return
	}
	command, headers, _ := parseStompFrame(first)
	device := headers["deviceId"]
	store, ok := StoreOf(device)
	if (command != "CONNECT" && command != "STOMP") || !ok {
		_ = conn.Write(ctx, websocket.MessageText, []byte("ERROR\nmessage:CONNECT with a deviceId expected\n\n\x00"))
		return
	}
	end := r.log.Open(store, device, KindStomp)
	defer end()
	connected := "CONNECTED\nversion:1.2\nheart-beat:0,0\nserver:commerce\nreplica:" + r.name +
		"\nsubprotocol:" + conn.Subprotocol() + "\naffinity:" + affinityAsRead(req.Header) + "\n\n\x00"
	if err := conn.Write(ctx, websocket.MessageText, []byte(connected)); err != nil {
		return
	}
	subscriptions := map[string]string{} // destination -> subscription id
	for {
		_, frame, err := conn.Read(ctx)
		if err != nil {
			return
		}
		command, headers, body := parseStompFrame(frame)
		switch command {
		case "SUBSCRIBE":
			subscriptions[headers["destination"]] = headers["id"]
		case "SEND":
			topic := "/topic" + strings.TrimPrefix(strings.TrimSuffix(headers["destination"], "/ping"), "/app/device")
			reply := "MESSAGE\ndestination:" + topic + "\nsubscription:" + subscriptions[topic] +
				"\nmessage-id:" + r.name + "\n\n" + string(body) + "\x00"
			if err := conn.Write(ctx, websocket.MessageText, []byte(reply)); err != nil {
				return
			}
		case "DISCONNECT":
			if receipt := headers["receipt"]; receipt != "" {
				_ = conn.Write(ctx, websocket.MessageText, []byte("RECEIPT\nreceipt-id:"+receipt+"\n\n\x00"))
			}
			_ = conn.Close(websocket.StatusNormalClosure, "")
			return
		}
	}
}

// StompHeaders returns the headers of a STOMP frame (the first of a repeated one).
func StompHeaders(frame []byte) map[string]string {
	_, headers, _ := parseStompFrame(frame)
	return headers
}

// parseStompFrame splits a STOMP frame into its command, headers (the first of a
// repeated one) and body.
func parseStompFrame(frame []byte) (string, map[string]string, []byte) {
	frame = bytes.TrimLeft(frame, "\r\n")
	head, body, _ := bytes.Cut(frame, []byte("\n\n"))
	body = bytes.TrimSuffix(body, []byte("\x00"))
	lines := strings.Split(strings.ReplaceAll(string(head), "\r\n", "\n"), "\n")
	headers := map[string]string{}
	for _, line := range lines[1:] {
		if name, value, ok := strings.Cut(line, ":"); ok {
			if _, seen := headers[name]; !seen {
				headers[name] = value
			}
		}
	}
	return lines[0], headers, body
}
