package storeaffinity

import (
	"bufio"
	"bytes"
	"context"
	"github.com/storeaffinity/storeaffinity/wire"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// stompWriter is what a STOMP session hands to next in place of the client's
// ResponseWriter: the one exception to "never wrap the ResponseWriter". The middleware
// has answered the client's handshake itself, to read the CONNECT frame that picks the
// member, so Traefik's proxy must hijack this writer instead: its 101 goes to
// stompConn, which checks it against what the client was told, and its WebSocket
// bytes go through to the client. A response that is not an upgrade (the backend
// refused, or is down) is only recorded, and the session ends with its status.
type stompWriter struct {
	conn     *stompConn
	header   http.Header
	status   int
	hijacked bool
	moved    bool // the session's store moved while it was served
}

// Header returns the header of the response that is never sent.
func (w *stompWriter) Header() http.Header { return w.header }

// WriteHeader records the status of a response that is not an upgrade.
func (w *stompWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

// Write discards the body of a response that is not an upgrade.
func (w *stompWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return len(p), nil
}

// Hijack hands the proxy the session's connection to the client.
func (w *stompWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	w.hijacked = true
	return w.conn, bufio.NewReadWriter(bufio.NewReader(w.conn), bufio.NewWriter(w.conn)), nil
}

// stompConn is the client's connection as the proxy sees it: reads replay the frames
// the middleware read to route the session, then go on with the client's bytes; writes
// check the backend's handshake response, then pass the backend's frames through,
// noting where each ends, so that a close frame is only ever added between two.
type stompConn struct {
	client   net.Conn
	reader   *bufio.Reader // the client's bytes, starting with what the hijack buffered
	replay   []byte        // the client's frames read to route the session
	early    []byte        // what the watch read, after replay
	protocol string        // the subprotocol the client was told

	watching sync.Once     // stops the watch for a client that leaves before the backend answers
	watched  chan struct{} // closed when the watch has ended

	mu        sync.Mutex
	answer    []byte       // the backend's handshake response, until it ends
	answered  bool         // the backend agreed to what the client was told
	failure   *wire.Ending // why the backend's answer was refused
	frameLeft uint64       // bytes of the backend's current frame still to pass
	lost      bool         // a frame header was split: no close frame may be added
	closed    bool         // a close frame has reached the client
	done      bool
}

// watchClient reads the client, in a goroutine of its own, until stopWatch, keeping
// what it reads for the proxy (early), and calls leave when the client left. Until
// the proxy first reads the client, nobody else does, so a client that goes away
// while its member hangs would otherwise hold the session, its goroutines and the
// backend connection until the member answers. It reads the connection itself, not
// the hijacked buffer, whose bytes it takes first: a read error there would also
// cancel the request's context, as net/http does for a connection it serves. Past
// wire.MaxConnectBytes kept, it stops reading, and the client is no longer watched.
func (c *stompConn) watchClient(leave context.CancelFunc) {
	if n := c.reader.Buffered(); n > 0 {
		buffered, _ := c.reader.Peek(n)
		c.early = append(c.early, buffered...)
		_, _ = c.reader.Discard(n)
	}
	c.watched = make(chan struct{})
	go func() {
		defer close(c.watched)
		chunk := make([]byte, 4096)
		for len(c.early) < wire.MaxConnectBytes {
			n, err := c.client.Read(chunk)
			c.early = append(c.early, chunk[:n]...)
			if err != nil {
				if !stoppedWatch(err) {
					leave()
				}
				return
			}
		}
	}()
}

// stoppedWatch reports whether the watch's read ended by stopWatch's deadline.
func stoppedWatch(err error) bool {
	netErr, ok := err.(net.Error)
	return ok && netErr.Timeout()
}

// stopWatch ends the watch, if one runs, before anyone else reads the client: a
// deadline in the past ends its read.
func (c *stompConn) stopWatch() {
	c.watching.Do(func() {
		if c.watched == nil {
			return
		}
		_ = c.client.SetReadDeadline(time.Unix(1, 0))
		<-c.watched
		_ = c.client.SetReadDeadline(time.Time{})
	})
}

// Read returns the replayed frames first, then what the watch read, then the client's
// bytes.
func (c *stompConn) Read(p []byte) (int, error) {
	c.stopWatch()
	if len(c.replay) > 0 {
		n := copy(p, c.replay)
		c.replay = c.replay[n:]
		return n, nil
	}
	if len(c.early) > 0 {
		n := copy(p, c.early)
		c.early = c.early[n:]
		return n, nil
	}
	return c.reader.Read(p)
}

// Write passes the backend's bytes to the client once its handshake response agreed.
func (c *stompConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	if c.done || c.failure != nil {
		c.mu.Unlock()
		return 0, net.ErrClosed
	}
	if !c.answered {
		n, err := c.readAnswer(p)
		c.mu.Unlock()
		return n, err
	}
	c.track(p)
	n, err := c.client.Write(p)
	c.mu.Unlock()
	return n, err
}

// readAnswer collects the backend's handshake response and checks it: a 101 that
// agrees to the subprotocol the client was told, and to no extension. Anything else
// would corrupt the stream, so the session ends instead.
func (c *stompConn) readAnswer(p []byte) (int, error) {
	c.answer = append(c.answer, p...)
	end := bytes.Index(c.answer, []byte("\r\n\r\n"))
	if end < 0 {
		if len(c.answer) > wire.MaxConnectBytes {
			c.failure = wire.Refusal(wire.CloseBadGateway, "the backend's handshake response is too long")
			return 0, c.failure
		}
		return len(p), nil
	}
	res, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(c.answer[:end+4])), nil)
	switch {
	case err != nil:
		c.failure = wire.Refusal(wire.CloseBadGateway, "the backend's handshake response is unreadable")
	case res.StatusCode != http.StatusSwitchingProtocols:
		c.failure = wire.Refusal(wire.CloseBadGateway, "the backend answered the upgrade with HTTP "+strconv.Itoa(res.StatusCode))
	case res.Header.Get("Sec-WebSocket-Protocol") != c.protocol:
		c.failure = wire.Refusal(wire.CloseBadGateway, "the backend chose subprotocol \""+res.Header.Get("Sec-WebSocket-Protocol")+"\", the client was told \""+c.protocol+"\"")
	case res.Header.Get("Sec-WebSocket-Extensions") != "":
		c.failure = wire.Refusal(wire.CloseBadGateway, "the backend agreed to extensions the client was not offered")
	}
	if c.failure != nil {
		return 0, c.failure
	}
	c.answered = true
	if rest := c.answer[end+4:]; len(rest) > 0 {
		c.track(rest)
		if _, err := c.client.Write(rest); err != nil {
			return 0, err
		}
	}
	c.answer = nil
	return len(p), nil
}

// track follows the backend's frames through p.
func (c *stompConn) track(p []byte) {
	n := uint64(len(p))
	for !c.lost && n > c.frameLeft {
		p = p[c.frameLeft:]
		n -= c.frameLeft
		size, opcode, ok := wire.ServerFrameEnd(p)
		if !ok {
			c.lost = true
			return
		}
		c.closed = c.closed || opcode == wire.OpClose
		c.frameLeft = size
	}
	if !c.lost {
		c.frameLeft -= n
	}
}

// finish ends the session: unless end is nil, the backend already closed it, or a
// frame is cut short, it tells the client why (a STOMP ERROR frame when end asks for
// one, then a close frame), and closes the connection.
func (c *stompConn) finish(end *wire.Ending) {
	c.stopWatch()
	c.mu.Lock()
	c.done = true
	told := false
	if end != nil && !c.closed && !c.lost && c.frameLeft == 0 {
		_ = c.client.SetWriteDeadline(time.Now().Add(time.Second))
		if end.ErrorFrame {
			_, _ = c.client.Write(wire.ErrorFrame(end.Reason))
		}
		_, _ = c.client.Write(wire.Close(end.Code, end.Reason))
		c.closed, told = true, true
	}
	c.mu.Unlock()
	if told {
		// A lingering close, as HTTP servers do it: closing with the client's bytes
		// unread would reset the connection, and the client could lose the close frame.
		_ = c.client.SetReadDeadline(time.Now().Add(lingerTime))
		_, _ = io.Copy(io.Discard, io.LimitReader(c.client, maxLingerBytes))
	}
	_ = c.client.Close()
}

// A lingering close reads at most this long and this much of what the client still
// sends after the close frame.
const (
	lingerTime     = 250 * time.Millisecond
	maxLingerBytes = 64 << 10
)

// Close leaves the connection to finish, which runs once the proxy has returned.
func (c *stompConn) Close() error { return nil }

// LocalAddr returns the client connection's local address.
func (c *stompConn) LocalAddr() net.Addr { return c.client.LocalAddr() }

// RemoteAddr returns the client's address.
func (c *stompConn) RemoteAddr() net.Addr { return c.client.RemoteAddr() }

// SetDeadline sets the client connection's deadlines.
func (c *stompConn) SetDeadline(t time.Time) error { return c.client.SetDeadline(t) }

// SetReadDeadline sets the client connection's read deadline.
func (c *stompConn) SetReadDeadline(t time.Time) error { return c.client.SetReadDeadline(t) }

// SetWriteDeadline sets the client connection's write deadline.
func (c *stompConn) SetWriteDeadline(t time.Time) error { return c.client.SetWriteDeadline(t) }
