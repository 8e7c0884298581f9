package storeaffinity

import (
	"bytes"
	"context"
	"errors"
	"github.com/storeaffinity/storeaffinity/wire"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
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

var errStompPathParameters = errors.New("the STOMP path carries ';' parameters")

// How a session that reached the backend ends: its store moved, or the backend went.
var (
	endStoreMoved  = &wire.Ending{Code: wire.CloseServiceRestart, Reason: "the store moved to another member: reconnect"}
	endBackendGone = &wire.Ending{Code: wire.CloseGoingAway, Reason: "the backend ended the session"}
)

// serveNoDeviceStomp serves a request that carries no device ID: a WebSocket upgrade
// to a STOMP path is routed by its CONNECT frame, anything else round-robin.
func (a *Affinity) serveNoDeviceStomp(rw http.ResponseWriter, req *http.Request) {
	if req.Header["Upgrade"] != nil {
		if a.stompPaths[req.URL.Path] {
			a.serveStomp(rw, req, "")
			return
		}
		// A servlet container serves /api/websocket;jsessionid=1 as the STOMP path.
		if strings.IndexByte(req.URL.Path, ';') >= 0 && a.stompPaths[servletPath(req.URL.EscapedPath())] {
			a.refuse(rw, errStompPathParameters)
			return
		}
	}
	a.serveRoundRobin(rw, req)
}

// serveFoundStomp serves a request whose header or query names a device: on a STOMP
// path, an upgrade is still routed by its CONNECT frame, which is what the backend
// acts on, and refused when the two name different devices.
func (a *Affinity) serveFoundStomp(rw http.ResponseWriter, req *http.Request, deviceID string) {
	if req.Header["Upgrade"] != nil && a.stompPaths[req.URL.Path] {
		a.serveStomp(rw, req, deviceID)
		return
	}
	serveStore(a, rw, req, deviceID)
}

// serveStomp answers the client's handshake, reads the CONNECT frame and serves the
// session on the member of its device's store; named is the device ID that the
// request's header or query names, or "". Before the 101, bad input gets an HTTP
// 4xx; after it, a STOMP ERROR frame and a close code. The connection is closed in a
// defer, whatever next does.
//
// Under Yaegi v0.16.1, a variable that a deferred closure reads is only reliably set
// from a function's result or a pointer, and a type switch does not recognise an
// interpreted type: so the session's end is a *wire.Ending, always.
func (a *Affinity) serveStomp(rw http.ResponseWriter, req *http.Request, named string) {
	protocol, err := wire.Handshake(req, splitList(req.Header["Sec-Websocket-Protocol"]))
	if err != nil {
		a.refuse(rw, err)
		return
	}
	cookies := req.Header["Cookie"]
	if cookies != nil && pastCookieBounds(strings.Join(cookies, "; ")) {
		a.live.refusals[reasonCookies].Add(1)
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
	// The request that reaches next has no body: its connection belongs to the session.
	req.Body, req.ContentLength = http.NoBody, 0
	conn := &stompConn{client: client, reader: buffered.Reader, protocol: protocol}
	var end *wire.Ending // nil: the client went away, and needs no close frame
	defer func() { conn.finish(end) }()
	if _, err := client.Write(wire.HandshakeResponse(req, protocol)); err != nil {
		return
	}
	headers, complete, refusal := readConnect(client, buffered.Reader, &conn.replay)
	if !complete {
		if refusal != nil {
			a.live.refusals[reasonConnect].Add(1)
		}
		end = refusal
		return
	}
	w := &stompWriter{conn: conn, header: http.Header{}}
	r, refusal, always := a.stompRoute(headers, named)
	if refusal != nil && (always || !a.roundRobinBad) {
		a.live.refusals[reasonConnect].Add(1)
		end = refusal
		return
	}
	// Until the backend answers, nobody reads the client: the session watches it, and
	// lets next go when the client leaves.
	ctx, cancel := context.WithCancel(req.Context())
	defer cancel()
	req = req.WithContext(ctx)
	conn.watchClient(cancel)
	switch {
	case refusal != nil:
		m := a.place.members[a.turn.Add(1)%a.count]
		atomic.AddUint64(m.stateless, 1)
		a.prepareStomp(rw, req, m, protocol)
		a.next.ServeHTTP(w, req)
	default:
		atomic.AddUint64(r.member.stateful, 1)
		a.prepareStomp(rw, req, r.member, protocol)
		req.Header[a.affinityHeader] = r.stamp
		w.moved = a.serveTracked(w, req, r)
	}
	end = sessionEnd(w, conn)
}

// readConnect reads the client's frames up to the end of the CONNECT frame's headers,
// within wire.ConnectTimeout, keeping what it read in replay for the backend. When it
// could not read them, it returns how the session ends (nil: the client went away).
func readConnect(client net.Conn, reader io.Reader, replay *[]byte) (string, bool, *wire.Ending) {
	sent := &bytes.Buffer{}
	_ = client.SetReadDeadline(time.Now().Add(wire.ConnectTimeout))
	headers, refusal, err := wire.ReadConnect(io.TeeReader(reader, sent))
	_ = client.SetReadDeadline(time.Time{})
	*replay = sent.Bytes()
	if err != nil { // under Yaegi, asserting a nil interface panics
		if netErr, ok := err.(net.Error); ok && netErr.Timeout() {
			return "", false, wire.ErrTimeout
		}
		return "", false, nil
	}
	return headers, refusal == nil, refusal
}

// stompRoute returns the route of the device that the CONNECT frame's headers name,
// or the refusal, and whether it stands even under missingDeviceId: roundRobin.
func (a *Affinity) stompRoute(headers, named string) (r *route, refusal *wire.Ending, always bool) {
	deviceID, found, err := wire.HeaderValue(headers, a.stompDeviceHeader)
	switch {
	case err != nil:
		return nil, wire.Refusal(wire.ClosePolicy, err.Error()), true
	case found && named != "" && deviceID != named:
		return nil, wire.Refusal(wire.ClosePolicy, errDeviceIDTwice.Error()), true
	case !found && named != "":
		deviceID = named
	case !found:
		return nil, wire.ErrNoDevice, false
	}
	if r, err = routeOf(a.place, deviceID); err != nil {
		return nil, wire.Refusal(wire.ClosePolicy, err.Error()), false
	}
	return r, nil, false
}

// prepareStomp turns the client's handshake into the backend's: the member's sticky
// cookie (the client's cookies were checked against the bounds before the upgrade, so
// the merge refuses nothing, and rw is never written), no client stamp, and exactly
// the subprotocol and extensions (none) the client was told.
func (a *Affinity) prepareStomp(rw http.ResponseWriter, req *http.Request, m *member, protocol string) {
	a.stickCookie(rw, req, m)
	dropAffinityHeaders(req.Header, a.affinityHeader, a.forgedHeaders)
	delete(req.Header, "Sec-Websocket-Extensions")
	delete(req.Header, "Sec-Websocket-Protocol")
	if protocol != "" {
		req.Header["Sec-Websocket-Protocol"] = []string{protocol}
	}
}

// sessionEnd returns how a session that reached next ends for the client.
func sessionEnd(w *stompWriter, conn *stompConn) *wire.Ending {
	switch {
	case !w.hijacked:
		return wire.Refusal(wire.CloseBadGateway, "the backend refused the session: HTTP "+strconv.Itoa(w.status))
	case conn.failure != nil:
		return conn.failure
	case w.moved:
		return endStoreMoved
	}
	return endBackendGone
}
