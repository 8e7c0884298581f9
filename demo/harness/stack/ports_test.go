package stack

import (
	"net"
	"strconv"
	"testing"
)

// TestFreeAddrIsOutsideTheEphemeralRange: the ports FreeAddr gives are outside the
// kernel's ephemeral range, never given twice, and free.
func TestFreeAddrIsOutsideTheEphemeralRange(t *testing.T) {
	from, to := portsOutsideEphemeral()
	if to-from < 2000 {
		t.Fatalf("ports [%d, %d) outside the ephemeral range: too few", from, to)
	}
	seen := map[string]bool{}
	for range 500 {
		addr, err := FreeAddr()
		if err != nil {
			t.Fatal(err)
		}
		_, port, _ := net.SplitHostPort(addr)
		if p, _ := strconv.Atoi(port); p < from || p >= to {
			t.Fatalf("port %d, want one in [%d, %d), outside the ephemeral range", p, from, to)
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
	if p := l.Addr().(*net.TCPAddr).Port; p >= from && p < to {
		t.Fatalf("the kernel gave %d to a :0 listener, inside [%d, %d)", p, from, to)
	}
}
