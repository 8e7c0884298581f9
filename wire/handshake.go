package wire

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
)

// Protocols are the subprotocols of STOMP over WebSocket, as the OpenPOS client
// (@stomp/stompjs) offers them.
var Protocols = []string{"v12.stomp", "v11.stomp", "v10.stomp"}

// Refusals of a handshake, answered with 400 before the upgrade.
var (
	ErrNotWebSocket = errors.New("a STOMP path takes a WebSocket upgrade: GET with Upgrade: websocket and Connection: Upgrade")
	ErrWebSocketKey = errors.New("the WebSocket handshake needs Sec-WebSocket-Version 13 and a 16-byte Sec-WebSocket-Key")
	ErrNoStompOffer = errors.New("the WebSocket offers no STOMP subprotocol (v12.stomp, v11.stomp or v10.stomp)")
	ErrUpgradeBody  = errors.New("a WebSocket upgrade carries no body (Content-Length or Transfer-Encoding)")
)

// Handshake checks a WebSocket upgrade and returns the STOMP subprotocol to
// agree to: the client's first STOMP one, or "" when it offers none.
//
// offered are the subprotocols of the request's Sec-WebSocket-Protocol lines, split
// at commas and trimmed, as the middleware splits every list.
func Handshake(req *http.Request, offered []string) (string, error) {
	if req.Method != http.MethodGet || !strings.EqualFold(req.Header.Get("Upgrade"), "websocket") ||
		!strings.Contains(strings.ToLower(strings.Join(req.Header["Connection"], ",")), "upgrade") {
		return "", ErrNotWebSocket
	}
	// After the hijack, the body's bytes are the session's: a proxy that read them as
	// the request's body would read the hijacked connection, and net/http panics.
	if req.ContentLength != 0 || len(req.TransferEncoding) != 0 {
		return "", ErrUpgradeBody
	}
	key, err := base64.StdEncoding.DecodeString(req.Header.Get("Sec-Websocket-Key"))
	if err != nil || len(key) != 16 || req.Header.Get("Sec-Websocket-Version") != "13" {
		return "", ErrWebSocketKey
	}
	for _, p := range offered {
		for _, stomp := range Protocols {
			if p == stomp {
				return p, nil
			}
		}
	}
	if len(offered) != 0 {
		return "", ErrNoStompOffer
	}
	return "", nil
}

// HandshakeResponse is the 101 the middleware answers the client's handshake with.
func HandshakeResponse(req *http.Request, protocol string) []byte {
	response := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
		Accept(req.Header.Get("Sec-Websocket-Key")) + "\r\n"
	if protocol != "" {
		response += "Sec-WebSocket-Protocol: " + protocol + "\r\n"
	}
	return []byte(response + "\r\n")
}
