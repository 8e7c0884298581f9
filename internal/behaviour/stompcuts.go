package behaviour

import (
	"fmt"
	"net"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/storeaffinity/storeaffinity/internal/wsclient"
)

// stompCuts are the stages at which a client ends an OpenPOS session, each a step of
// the session up to the stage, then the cut. Every one must leave nothing behind.
var stompCuts = []struct {
	name string
	cut  func(base, device string) error
}{
	{"half a handshake", func(base, _ string) error { return rawCut(base, "GET "+stompPath+" HTTP/1.1\r\nHost: x\r\nUpgr") }},
	{"a handshake, no wait for the 101", func(base, _ string) error {
		return rawCut(base, "GET "+stompPath+" HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
			"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: v12.stomp\r\n\r\n")
	}},
	{"after the 101", func(base, _ string) error { return sessionCut(base, nil) }},
	{"inside a frame header", func(base, _ string) error { return sessionCut(base, []byte{0x81}) }},
	{"inside the CONNECT frame", func(base, device string) error {
		return sessionCut(base, []byte(wsclient.ConnectFrame(device))[:20])
	}},
	{"right after the CONNECT frame", func(base, device string) error { return sessionCut(base, []byte(wsclient.ConnectFrame(device))) }},
	{"after the CONNECTED frame", func(base, device string) error {
		s, err := wsclient.Dial(base, stompPath, nil)
		if err != nil {
			return err
		}
		defer s.Close()
		if err := s.SendText(wsclient.ConnectFrame(device)); err != nil {
			return err
		}
		_, err = s.Read()
		return err
	}},
	{"a refused first frame", func(base, _ string) error {
		s, err := wsclient.Dial(base, stompPath, nil)
		if err != nil {
			return err
		}
		defer s.Close()
		if err := s.SendText("SUBSCRIBE\nid:1\n\n\x00"); err != nil {
			return err
		}
		if end := s.ReadUntilClose(); end.Code != 1002 {
			return fmt.Errorf("a refused first frame ended with %v", end)
		}
		return nil
	}},
}

// rawCut sends request on a new connection and closes it.
func rawCut(base, request string) error {
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		return err
	}
	_, err = conn.Write([]byte(request))
	_ = conn.Close()
	return err
}

// sessionCut completes the handshake, sends the raw bytes of a masked text frame that
// carries payload (nil: nothing, a short slice: part of a frame header), and closes.
func sessionCut(base string, payload []byte) error {
	s, err := wsclient.DialSession(base, stompPath)
	if err != nil {
		return err
	}
	defer s.Close()
	switch {
	case payload == nil:
		return nil
	case len(payload) < 2:
		return s.SendRaw(payload)
	}
	return s.SendText(string(payload))
}

func testStompCutsLeaveNothing(t *testing.T, build Builder, liveStores LiveStoresFunc) {
	h := mustBuild(t, build, newStickyService(t, baseMembers), stompConfig(), "stomp-cuts")
	server := httptest.NewUnstartedServer(h)
	server.Config.ReadHeaderTimeout = 5 * time.Second
	server.Start()
	defer server.Close()
	// One session of each kind first, so that what stays for good (the interpreter's
	// caches, the connection pools) is there before the baseline.
	for i, c := range stompCuts {
		if err := c.cut(server.URL, fmt.Sprintf("%05d-001", 90000+i)); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
	}
	goroutines, heap := settled(t, 0, "", nil)
	files := openFiles()
	const sessions = 1000
	var wg sync.WaitGroup
	errs := make(chan error, sessions)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for n := w; n < sessions; n += 8 {
				c := stompCuts[n%len(stompCuts)]
				if err := c.cut(server.URL, fmt.Sprintf("%05d-001", n)); err != nil {
					errs <- fmt.Errorf("%s: %w", c.name, err)
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	settled(t, goroutines, "stomp-cuts", liveStores)
	_, after := settled(t, goroutines, "stomp-cuts", liveStores)
	if now := openFiles(); now > files+8 {
		t.Errorf("%d sessions cut at every stage left %d files open, %d before them", sessions, now, files)
	}
	// 1000 sessions cached at most 1000 routes of about 200 bytes each.
	if grown := int64(after) - int64(heap); grown > 2<<20 {
		t.Errorf("%d sessions cut at every stage left the heap %d KiB larger", sessions, grown>>10)
	}
}

// openFiles counts the process's open files, or returns 0 where /proc is not there.
func openFiles() int {
	entries, _ := os.ReadDir("/proc/self/fd")
	return len(entries)
}

// settled waits until the goroutines are back to at most baseline (plus the test
// server's idle ones) and no store is tracked, then returns the goroutines and the
// heap in use after a GC.
func settled(t *testing.T, baseline int, name string, liveStores LiveStoresFunc) (int, uint64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		runtime.GC()
		n, live := runtime.NumGoroutine(), 0
		if liveStores != nil {
			live = liveStores(name)
		}
		if baseline == 0 || (n <= baseline+4 && live == 0) {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			return n, m.HeapInuse
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("10 s after the cut sessions: %d goroutines (before them %d), %d stores tracked\n%s",
				n, baseline, live, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(50 * time.Millisecond)
	}
}
