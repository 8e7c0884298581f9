package storeaffinity

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The OpenPOS WebSocket names its device only in its first STOMP frame. On a
// stompConnectPaths path, an upgrade that carries no device ID of its own is therefore
// answered by the middleware itself (101, one of the offered STOMP subprotocols, no
// extensions), which reads the CONNECT frame, routes by its device ID exactly as a
// REST call of that device, and hands the connection back to Traefik's proxy through
// the member's sticky cookie: the backend receives the client's handshake and every
// frame byte for byte, and Traefik's load balancer, transport, health checks, access
// log and metrics stay in the path.

// stompConnectTimeout bounds the wait for the CONNECT frame after the handshake.
const stompConnectTimeout = 10 * time.Second

// stompProtocols are the subprotocols of STOMP over WebSocket, as the OpenPOS client
// (@stomp/stompjs) offers them.
var stompProtocols = []string{"v12.stomp", "v11.stomp", "v10.stomp"}

var (
	errNotWebSocket  = errors.New("a STOMP path takes a WebSocket upgrade: GET with Upgrade: websocket and Connection: Upgrade")
	errWebSocketKey  = errors.New("the WebSocket handshake needs Sec-WebSocket-Version 13 and a 16-byte Sec-WebSocket-Key")
	errNoStompOffer  = errors.New("the WebSocket offers no STOMP subprotocol (v12.stomp, v11.stomp or v10.stomp)")
	errNoStompDevice = errors.New("the STOMP CONNECT frame carries no device ID")
)

// serveNoDeviceStomp serves a request that carries no device ID: a WebSocket upgrade
// to a STOMP path is routed by its CONNECT frame, anything else round-robin.
func (a *Affinity) serveNoDeviceStomp(rw http.ResponseWriter, req *http.Request) {
	if req.Header["Upgrade"] != nil && a.stompPaths[req.URL.Path] {
		a.serveStomp(rw, req)
		return
	}
	a.serveRoundRobin(rw, req)
}

// serveStomp answers the client's handshake, reads the CONNECT frame and serves the
// session on the member of its device's store. Before the 101, bad input gets an HTTP
// 4xx; after it, a STOMP ERROR frame and a close code. The connection is closed in a
// defer, whatever next does.
func (a *Affinity) serveStomp(rw http.ResponseWriter, req *http.Request) {
	protocol, err := stompHandshake(req)
	if err != nil {
		refuse(rw, err)
		return
	}
	cookies := req.Header["Cookie"]
	if cookies != nil && pastCookieBounds(strings.Join(cookies, "; ")) {
		refuseCookies(rw)
		return
	}
	hijacker, ok := rw.(http.Hijacker)
	if !ok {
		http.Error(rw, "storeaffinity: this connection cannot be upgraded (HTTP/1.1 only)", http.StatusBadRequest)
		return
	}
	client, buffered, err := hijacker.Hijack()
	if err != nil {
		return
	}
	conn := &stompConn{client: client, reader: buffered.Reader, protocol: protocol}
	code, reason, stompMessage := 0, "", false
	defer func() { conn.finish(code, reason, stompMessage) }()
	if _, err := client.Write(handshakeResponse(req, protocol)); err != nil {
		return
	}
	headers, err := readConnect(client, buffered.Reader, &conn.replay)
	if err != nil {
		code, reason, stompMessage = stompEnd(err)
		return
	}
	w := &stompWriter{conn: conn, header: http.Header{}}
	r, err := a.stompRoute(headers)
	switch {
	case err != nil && (err == errDeviceIDTwice || !a.roundRobinBad):
		code, reason, stompMessage = closePolicy, err.Error(), true
		return
	case err != nil:
		a.prepareStomp(req, cookies, a.cookies[a.turn.Add(1)%a.count], protocol)
		a.next.ServeHTTP(w, req)
	default:
		a.prepareStomp(req, cookies, r.cookie, protocol)
		req.Header[a.affinityHeader] = r.stamp
		a.serveStompTracked(w, req, r)
	}
	code, reason, stompMessage = sessionEnd(w, conn)
}

// readConnect reads the client's frames up to the end of the CONNECT frame's headers,
// within stompConnectTimeout, keeping what it read in replay for the backend.
func readConnect(client net.Conn, reader io.Reader, replay *[]byte) (string, error) {
	var read bytes.Buffer
	_ = client.SetReadDeadline(time.Now().Add(stompConnectTimeout))
	headers, err := readStompConnect(io.TeeReader(reader, &read))
	_ = client.SetReadDeadline(time.Time{})
	*replay = read.Bytes()
	return headers, err
}

// stompRoute returns the route of the device that the CONNECT frame's headers name.
func (a *Affinity) stompRoute(headers string) (*route, error) {
	deviceID, found, err := stompHeaderValue(headers, a.stompDeviceHeader)
	switch {
	case err != nil:
		return nil, err
	case !found:
		return nil, errNoStompDevice
	}
	c := a.routes
	c.mu.RLock()
	r := c.routes[deviceID]
	c.mu.RUnlock()
	if r != nil {
		return r, nil
	}
	return a.newRoute(nil, nil, deviceID)
}

// prepareStomp turns the client's handshake into the backend's: the member's sticky
// cookie, no client stamp, and exactly the subprotocol and extensions (none) the
// client was told.
func (a *Affinity) prepareStomp(req *http.Request, cookies []string, pair, protocol string) {
	if cookies == nil {
		req.Header["Cookie"] = []string{pair}
	} else {
		merged, _ := withStickyCookie(cookies, a.cookieName, pair)
		req.Header["Cookie"] = []string{merged}
	}
	dropAffinityHeaders(req.Header, a.affinityHeader, a.forgedHeaders)
	delete(req.Header, "Sec-Websocket-Extensions")
	delete(req.Header, "Sec-Websocket-Protocol")
	if protocol != "" {
		req.Header["Sec-Websocket-Protocol"] = []string{protocol}
	}
}

// serveStompTracked serves a routed session as a live request of its store: when the
// store moves, its context ends, and the proxy closes the backend's side.
func (a *Affinity) serveStompTracked(w *stompWriter, req *http.Request, r *route) {
	life := a.live.acquire(r.store, r.member, a.placement)
	if life == nil {
		a.next.ServeHTTP(w, req)
		return
	}
	defer a.live.release(r.store, life)
	ctx, cancel := context.WithCancel(req.Context())
	defer cancel()
	stop := context.AfterFunc(life.ctx, cancel)
	defer stop()
	a.next.ServeHTTP(w, req.WithContext(ctx))
	if life.ctx.Err() != nil {
		w.moved = true
	}
}

// sessionEnd returns how a session that reached next ends for the client.
func sessionEnd(w *stompWriter, conn *stompConn) (code int, reason string, stompMessage bool) {
	switch {
	case !w.hijacked:
		return closeBadGateway, "the backend refused the session: HTTP " + strconv.Itoa(w.status), true
	case conn.failure != nil:
		return conn.failure.code, conn.failure.reason, true
	case w.moved:
		return closeServiceRestart, "the store moved to another member: reconnect", false
	}
	return closeGoingAway, "the backend ended the session", false
}

// stompEnd returns how a session ends whose CONNECT frame could not be read.
func stompEnd(err error) (code int, reason string, stompMessage bool) {
	var netErr net.Error
	switch e := err.(type) {
	case *stompError:
		return e.code, e.reason, true
	case net.Error:
		netErr = e
	}
	if netErr != nil && netErr.Timeout() {
		return closePolicy, "no CONNECT frame within " + stompConnectTimeout.String(), true
	}
	return 0, "", false // the client went away
}

// stompHandshake checks a WebSocket upgrade and returns the STOMP subprotocol to
// agree to: the client's first STOMP one, or "" when it offers none.
func stompHandshake(req *http.Request) (string, error) {
	if req.Method != http.MethodGet || !strings.EqualFold(req.Header.Get("Upgrade"), "websocket") ||
		!strings.Contains(strings.ToLower(strings.Join(req.Header["Connection"], ",")), "upgrade") {
		return "", errNotWebSocket
	}
	key, err := base64.StdEncoding.DecodeString(req.Header.Get("Sec-Websocket-Key"))
	if err != nil || len(key) != 16 || req.Header.Get("Sec-Websocket-Version") != "13" {
		return "", errWebSocketKey
	}
	offered := splitList(req.Header["Sec-Websocket-Protocol"])
	for _, p := range offered {
		for _, stomp := range stompProtocols {
			if p == stomp {
				return p, nil
			}
		}
	}
	if len(offered) != 0 {
		return "", errNoStompOffer
	}
	return "", nil
}

// handshakeResponse is the 101 the middleware answers the client's handshake with.
func handshakeResponse(req *http.Request, protocol string) []byte {
	response := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
		wsAccept(req.Header.Get("Sec-Websocket-Key")) + "\r\n"
	if protocol != "" {
		response += "Sec-WebSocket-Protocol: " + protocol + "\r\n"
	}
	return []byte(response + "\r\n")
}
