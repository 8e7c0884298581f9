// Package wsclient is a WebSocket client written out by hand, for tests that must send
// what no client library would: no CONNECT, a huge frame, a cut at any stage. It
// imports the standard library only.
package wsclient

import (
	"bufio"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// Socket is one client WebSocket.
type Socket struct {
	conn   net.Conn
	reader *bufio.Reader
	// Response is the server's handshake response.
	Response *http.Response
}

// Dial opens a WebSocket to base (http://host:port) and path, offering the STOMP
// subprotocols, with headers added to or replacing the handshake's, and reads the
// handshake response.
func Dial(base, path string, headers map[string]string) (*Socket, error) {
	return DialWithBody(base, path, headers, nil)
}

// DialWithBody is Dial that sends body right after the handshake's headers, as a
// request body would be sent; headers should announce it.
func DialWithBody(base, path string, headers map[string]string, body []byte) (*Socket, error) {
	host := strings.TrimPrefix(base, "http://")
	conn, err := net.DialTimeout("tcp", host, 5*time.Second)
	if err != nil {
		return nil, err
	}
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	key := make([]byte, 16)
	_, _ = rand.Read(key)
	handshake := map[string]string{
		"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
		"Sec-WebSocket-Key":      base64.StdEncoding.EncodeToString(key),
		"Sec-WebSocket-Protocol": "v12.stomp, v11.stomp, v10.stomp",
	}
	for k, v := range headers {
		handshake[k] = v // "" leaves the header out
	}
	request := "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\n"
	for k, v := range handshake {
		if v != "" {
			request += k + ": " + v + "\r\n"
		}
	}
	if _, err := conn.Write(append([]byte(request+"\r\n"), body...)); err != nil {
		conn.Close()
		return nil, err
	}
	s := &Socket{conn: conn, reader: bufio.NewReader(conn)}
	if s.Response, err = http.ReadResponse(s.reader, nil); err != nil {
		conn.Close()
		return nil, err
	}
	return s, nil
}

// DialSession is Dial without more headers that fails unless the handshake is answered
// 101 Switching Protocols.
func DialSession(base, path string) (*Socket, error) {
	s, err := Dial(base, path, nil)
	if err != nil {
		return nil, err
	}
	if s.Response.StatusCode != http.StatusSwitchingProtocols {
		s.Close()
		return nil, fmt.Errorf("handshake answered %d", s.Response.StatusCode)
	}
	return s, nil
}

// Send writes one masked, final frame of opcode with payload.
func (s *Socket) Send(opcode byte, payload []byte) error { return s.SendFrame(true, opcode, payload) }

// SendFrame writes one masked frame of opcode with payload, final or not.
func (s *Socket) SendFrame(final bool, opcode byte, payload []byte) error {
	_, err := s.conn.Write(MaskedFrame(final, opcode, payload))
	return err
}

// MaskedFrame returns one masked client frame of opcode with payload, final or not.
func MaskedFrame(final bool, opcode byte, payload []byte) []byte {
	frame := []byte{opcode}
	if final {
		frame[0] |= 0x80
	}
	switch n := len(payload); {
	case n < 126:
		frame = append(frame, 0x80|byte(n))
	case n <= 0xffff:
		frame = append(frame, 0x80|126, byte(n>>8), byte(n))
	default:
		frame = append(frame, 0x80|127)
		frame = binary.BigEndian.AppendUint64(frame, uint64(n))
	}
	mask := []byte{1, 2, 3, 4}
	frame = append(frame, mask...)
	for i, b := range payload {
		frame = append(frame, b^mask[i%4])
	}
	return frame
}

// SendText sends a text frame.
func (s *Socket) SendText(text string) error { return s.Send(0x1, []byte(text)) }

// Frame is one frame the server sent.
type Frame struct {
	Opcode  byte
	Payload []byte
}

// read reads one server frame.
func (s *Socket) Read() (Frame, error) {
	var head [2]byte
	if _, err := io.ReadFull(s.reader, head[:]); err != nil {
		return Frame{}, err
	}
	size := uint64(head[1] & 0x7f)
	switch size {
	case 126:
		var ext [2]byte
		if _, err := io.ReadFull(s.reader, ext[:]); err != nil {
			return Frame{}, err
		}
		size = uint64(binary.BigEndian.Uint16(ext[:]))
	case 127:
		var ext [8]byte
		if _, err := io.ReadFull(s.reader, ext[:]); err != nil {
			return Frame{}, err
		}
		size = binary.BigEndian.Uint64(ext[:])
	}
	payload := make([]byte, size)
	_, err := io.ReadFull(s.reader, payload)
	return Frame{Opcode: head[0] & 0x0f, Payload: payload}, err
}

// ending is how a session ended for the client: the STOMP frames it received (their
// first lines and message headers), and the close code and reason.
type Ending struct {
	Frames []string
	Code   int
	Reason string
}

func (e Ending) String() string {
	return fmt.Sprintf("close %d %q after %q", e.Code, e.Reason, e.Frames)
}

// ReadUntilClose reads server frames until a close frame or the end of the stream.
func (s *Socket) ReadUntilClose() Ending {
	var e Ending
	for {
		f, err := s.Read()
		if err != nil {
			return e
		}
		if f.Opcode == 0x8 {
			if len(f.Payload) >= 2 {
				e.Code = int(binary.BigEndian.Uint16(f.Payload))
				e.Reason = string(f.Payload[2:])
			}
			return e
		}
		e.Frames = append(e.Frames, string(f.Payload))
	}
}

// ConnectFrame is the OpenPOS client's CONNECT frame, with extra header lines.
func ConnectFrame(deviceID string, extra ...string) string {
	lines := []string{"CONNECT", "accept-version:1.2,1.1,1.0", "heart-beat:0,0", "authToken:t", "compatibilityVersion:v1", "appId:pos"}
	if deviceID != "" {
		lines = append(lines, "deviceId:"+deviceID)
	}
	return strings.Join(append(lines, extra...), "\n") + "\n\n\x00"
}

func (s *Socket) Close() { _ = s.conn.Close() }

// SendRaw writes bytes as they are, such as part of a frame.
func (s *Socket) SendRaw(p []byte) error {
	_, err := s.conn.Write(p)
	return err
}
