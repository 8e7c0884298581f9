package stack

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"sync"
)

// FreeAddr returns a loopback address whose port was free a moment ago. The port lies
// outside the kernel's ephemeral range (net.ipv4.ip_local_port_range), which the kernel
// hands to outgoing connections and ":0" listeners, so between this call and the
// caller's bind only another chooser of fixed ports could take it (StartTraefik retries
// on fresh ports when that happens). One process is never given a port twice.
func FreeAddr() (string, error) {
	from, to := portsOutsideEphemeral()
	given.mu.Lock()
	defer given.mu.Unlock()
	for range 200 {
		addr := fmt.Sprintf("127.0.0.1:%d", from+rand.IntN(to-from))
		if given.addrs[addr] {
			continue
		}
		if l, err := net.Listen("tcp", addr); err == nil {
			l.Close()
			given.addrs[addr] = true
			return addr, nil
		}
	}
	return "", fmt.Errorf("no free loopback port in [%d, %d)", from, to)
}

// given are the addresses FreeAddr returned.
var given = struct {
	mu    sync.Mutex
	addrs map[string]bool
}{addrs: map[string]bool{}}

// portsOutsideEphemeral returns the larger of the port ranges below and above the
// kernel's ephemeral range (32768-60999 when it cannot be read), leaving out the
// ports below 10000, where well-known services listen.
func portsOutsideEphemeral() (from, to int) {
	low, high := 32768, 60999
	if body, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if _, err := fmt.Sscan(string(body), &low, &high); err != nil {
			low, high = 32768, 60999
		}
	}
	if low-10000 >= 65536-(high+1) {
		return 10000, low
	}
	return high + 1, 65536
}
