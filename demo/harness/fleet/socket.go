package fleet

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/storeaffinity/storeaffinity/demo/commerce"
)

// Connection is one WebSocket connection of a device, as the device saw it.
type Connection struct {
	Replica  string
	Affinity string // the X-Store-Affinity header of the 101 answer
	Start    time.Time
	End      time.Time // zero while open
}

// Socket keeps a device's WebSocket open, reconnecting after every close, and records
// each connection.
type Socket struct {
	Device string

	mu          sync.Mutex
	connections []Connection
	errors      int
}

// Dial opens one WebSocket for device and reads the replica's greeting.
func (c *Client) Dial(ctx context.Context, device string) (*websocket.Conn, commerce.Reply, http.Header, error) {
	url := "ws" + strings.TrimPrefix(c.BaseURL, "http") + DevicePath(device, commerce.SocketPath)
	conn, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPClient: c.HTTP, HTTPHeader: c.Header})
	if err != nil {
		return nil, commerce.Reply{}, nil, err
	}
	var hello commerce.Reply
	_, body, err := conn.Read(ctx)
	if err == nil {
		err = json.Unmarshal(body, &hello)
	}
	if err != nil {
		conn.CloseNow()
		return nil, hello, nil, err
	}
	return conn, hello, resp.Header, nil
}

// DialStomp opens one WebSocket as the OpenPOS client does: to commerce.StompPath,
// with the STOMP subprotocols, naming device only in its CONNECT frame. It reads the
// CONNECTED frame, whose replica header names the replica, and returns the
// middleware's stamp as the replica read it.
func (c *Client) DialStomp(ctx context.Context, device string) (*websocket.Conn, commerce.Reply, http.Header, error) {
	return c.DialStompAt(ctx, commerce.StompPath, device)
}

// DialStompAt is DialStomp to another path, such as one that names the device in
// its query.
func (c *Client) DialStompAt(ctx context.Context, path, device string) (*websocket.Conn, commerce.Reply, http.Header, error) {
	url := "ws" + strings.TrimPrefix(c.BaseURL, "http") + path
	conn, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPClient: c.HTTP, HTTPHeader: c.Header,
		Subprotocols: []string{"v12.stomp", "v11.stomp", "v10.stomp"}})
	if err != nil {
		return nil, commerce.Reply{}, nil, err
	}
	connect := "CONNECT\naccept-version:1.2,1.1,1.0\nheart-beat:0,0\nappId:pos\ndeviceId:" + device + "\n\n\x00"
	err = conn.Write(ctx, websocket.MessageText, []byte(connect))
	var frame []byte
	if err == nil {
		_, frame, err = conn.Read(ctx)
	}
	headers := commerce.StompHeaders(frame)
	if err == nil && headers["replica"] == "" {
		err = fmt.Errorf("device %s: no CONNECTED frame: %q", device, frame)
	}
	if err != nil {
		conn.CloseNow()
		return nil, commerce.Reply{}, nil, err
	}
	return conn, commerce.Reply{Replica: headers["replica"]}, http.Header{"X-Store-Affinity": {headers["affinity"]}}, nil
}

// Hold keeps device's WebSocket open until ctx ends and returns its record.
func (c *Client) Hold(ctx context.Context, device string) *Socket {
	s := &Socket{Device: device}
	go s.run(ctx, c)
	return s
}

func (s *Socket) run(ctx context.Context, c *Client) {
	dial := c.Dial
	if c.Stomp {
		dial = c.DialStomp
	}
	for ctx.Err() == nil {
		conn, hello, header, err := dial(ctx, s.Device)
		if err != nil {
			s.mu.Lock()
			s.errors++
			s.mu.Unlock()
			select {
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
			continue
		}
		s.mu.Lock()
		s.connections = append(s.connections, Connection{Replica: hello.Replica, Affinity: header.Get("X-Store-Affinity"), Start: time.Now()})
		s.mu.Unlock()
		for {
			if _, _, err := conn.Read(ctx); err != nil {
				break
			}
		}
		conn.CloseNow()
		s.mu.Lock()
		s.connections[len(s.connections)-1].End = time.Now()
		s.mu.Unlock()
	}
}

// Connections returns the device's connections so far, oldest first.
func (s *Socket) Connections() []Connection {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Connection(nil), s.connections...)
}

// Current returns the open connection, if any.
func (s *Socket) Current() (Connection, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := len(s.connections); n > 0 && s.connections[n-1].End.IsZero() {
		return s.connections[n-1], true
	}
	return Connection{}, false
}

// Errors returns how many dials failed.
func (s *Socket) Errors() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.errors
}
