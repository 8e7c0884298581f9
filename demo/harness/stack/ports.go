package stack

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"sync"
)

// FreeAddr returns a loopback address whose port was free a moment ago. The port lies
// below the kernel's ephemeral range (net.ipv4.ip_local_port_range), which the kernel
// never hands to an outgoing connection or a ":0" listener, so between this call and
// the caller's bind only another chooser of fixed ports could take it (StartTraefik
// retries on fresh ports when that happens). One process is never given a port twice.
func FreeAddr() (string, error) {
	low := ephemeralLow()
	given.mu.Lock()
	defer given.mu.Unlock()
	for range 200 {
		addr := fmt.Sprintf("127.0.0.1:%d", low-1-rand.IntN(low/3))
		if given.addrs[addr] {
			continue
		}
		if l, err := net.Listen("tcp", addr); err == nil {
			l.Close()
			given.addrs[addr] = true
			return addr, nil
		}
	}
	return "", fmt.Errorf("no free loopback port below %d", low)
}

// given are the addresses FreeAddr returned.
var given = struct {
	mu    sync.Mutex
	addrs map[string]bool
}{addrs: map[string]bool{}}

// ephemeralLow returns the first port of the kernel's ephemeral range (32768 when it
// cannot be read).
func ephemeralLow() int {
	low := 32768
	if body, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if _, err := fmt.Sscan(string(body), &low); err != nil || low < 3072 {
			low = 32768
		}
	}
	return low
}
