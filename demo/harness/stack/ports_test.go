package stack

import (
	"net"
	"strconv"
	"testing"
)

// TestFreeAddrIsOutsideTheEphemeralRange: the ports FreeAddr gives are below the
// kernel's ephemeral range, never given twice, and free.
func TestFreeAddrIsOutsideTheEphemeralRange(t *testing.T) {
	low := ephemeralLow()
	seen := map[string]bool{}
	for range 500 {
		addr, err := FreeAddr()
		if err != nil {
			t.Fatal(err)
		}
		_, port, _ := net.SplitHostPort(addr)
		if p, _ := strconv.Atoi(port); p >= low || p < 1024 {
			t.Fatalf("port %d, want one below the ephemeral range (from %d)", p, low)
		}
		if seen[addr] {
			t.Fatalf("%s given twice", addr)
		}
		seen[addr] = true
	}
	// A listener on ":0" gets a port of the ephemeral range, which FreeAddr never gives.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if p := l.Addr().(*net.TCPAddr).Port; p < low {
		t.Fatalf("the kernel gave %d to a :0 listener, below the range's start %d", p, low)
	}
}
