package behaviour

import (
	"bufio"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"

	"github.com/storeaffinity/storeaffinity/internal/wsclient"
)

// The harness of the STOMP cases: members that answer STOMP over WebSocket, a sticky
// service in front of them as Traefik's weighted service, and the middleware in front
// of that.

const stompPath = "/api/websocket"

// stompConfig is baseConfig with the OpenPOS WebSocket routed by its CONNECT frame.
func stompConfig() map[string]any {
	config := baseConfig()
	config["stompConnectPaths"] = stompPath
	return config
}

// stompBackend is one member's backend: it agrees to the first offered subprotocol,
// and to permessage-deflate when offered (a compressing backend), answers the first
// frame with a CONNECTED frame that reports what it saw, then echoes every frame.
func stompBackend(name string) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		conn, rw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		protocol, _, _ := strings.Cut(req.Header.Get("Sec-Websocket-Protocol"), ",")
		sum := sha1.Sum([]byte(req.Header.Get("Sec-Websocket-Key") + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
		answer := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
			base64.StdEncoding.EncodeToString(sum[:]) + "\r\n"
		if protocol != "" {
			answer += "Sec-WebSocket-Protocol: " + protocol + "\r\n"
		}
		if strings.Contains(req.Header.Get("Sec-Websocket-Extensions"), "permessage-deflate") {
			answer += "Sec-WebSocket-Extensions: permessage-deflate\r\n"
		}
		if _, err := conn.Write([]byte(answer + "\r\n")); err != nil {
			return
		}
		first, err := readClientFrame(rw.Reader)
		if err != nil {
			return
		}
		device := ""
		for _, line := range strings.Split(string(first), "\n") {
			if v, ok := strings.CutPrefix(line, "deviceId:"); ok && device == "" {
				device = v
			}
		}
		connected := "CONNECTED\nreplica:" + name + "\ndevice:" + device + "\nsubprotocol:" + protocol +
			"\naffinity:" + req.Header.Get("X-Store-Affinity") + "\n\n\x00"
		for message := []byte(connected); ; {
			if _, err := conn.Write(append([]byte{0x81, 126, byte(len(message) >> 8), byte(len(message))}, message...)); err != nil {
				return
			}
			if message, err = readClientFrame(rw.Reader); err != nil {
				return
			}
		}
	}))
}

// readClientFrame reads one masked client frame and returns its payload.
func readClientFrame(r *bufio.Reader) ([]byte, error) {
	var head [2]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return nil, err
	}
	size := int(head[1] & 0x7f)
	if size == 126 {
		var ext [2]byte
		if _, err := io.ReadFull(r, ext[:]); err != nil {
			return nil, err
		}
		size = int(binary.BigEndian.Uint16(ext[:]))
	}
	var mask [4]byte
	if _, err := io.ReadFull(r, mask[:]); err != nil {
		return nil, err
	}
	payload := make([]byte, size)
	if _, err := io.ReadFull(r, payload); err != nil {
		return nil, err
	}
	for i := range payload {
		payload[i] ^= mask[i%4]
	}
	return payload, nil
}

// stickyService stands for Traefik's weighted service: it proxies each request to the
// backend of the member its sticky cookie names (502 for none), with Go's
// httputil.ReverseProxy, as Traefik's proxy does.
type stickyService map[string]*httputil.ReverseProxy

func newStickyService(t *testing.T, members []string) stickyService {
	service := stickyService{}
	for _, m := range members {
		backend := stompBackend(m)
		t.Cleanup(backend.Close)
		target, _ := url.Parse(backend.URL)
		service[stickyValue(m)] = httputil.NewSingleHostReverseProxy(target)
	}
	return service
}

func (s stickyService) ServeHTTP(rw http.ResponseWriter, req *http.Request) {
	cookie, err := req.Cookie(cookieName)
	if err != nil || s[cookie.Value] == nil {
		http.Error(rw, "no member", http.StatusBadGateway)
		return
	}
	s[cookie.Value].ServeHTTP(rw, req)
}

// stompServer serves the middleware built from config in front of a sticky service of
// members.
func stompServer(t *testing.T, build Builder, config map[string]any, name string, members []string) *httptest.Server {
	t.Helper()
	h := mustBuild(t, build, newStickyService(t, members), config, name)
	server := httptest.NewServer(h)
	t.Cleanup(server.Close)
	return server
}

// connectedHeaders reads the CONNECTED frame and returns its headers.
func connectedHeaders(t *testing.T, s *wsclient.Socket) map[string]string {
	t.Helper()
	f, err := s.Read()
	if err != nil {
		t.Fatalf("no CONNECTED frame: %v", err)
	}
	headers := map[string]string{}
	for _, line := range strings.Split(string(f.Payload), "\n")[1:] {
		if k, v, ok := strings.Cut(line, ":"); ok {
			headers[k] = v
		}
	}
	return headers
}
