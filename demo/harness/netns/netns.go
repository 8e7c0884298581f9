// Package netns runs test hosts in network namespaces that the test creates itself.
// Host i is a namespace joined to the machine by a veth pair, 198.18.<i>.1/24 on the
// machine's side and 198.18.<i>.2/24 inside, so that a backend gets an address that
// the Kubernetes API server accepts in an EndpointSlice (it refuses 127.0.0.0/8).
//
// A test skips when it cannot create namespaces (not root, no iproute2) or when the
// machine already routes part of 198.18.0.0/16. Names carry a per-process prefix, and
// one test binary at a time holds the range (a file lock), so parallel test binaries
// never collide. Traffic goes only to these namespaces' own addresses.
package netns

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// hostRange is the first half of the benchmarking range of RFC 2544 (198.18.0.0/15),
// which no real host should use. The other half, 198.19.0.0/16, belongs to the test
// Docker engine (package dockerd), so that both can run at once.
var hostRange = netip.MustParsePrefix("198.18.0.0/16")

// namePattern matches every name this package creates: sa<pid>x<i>, and the veth
// ends sa<pid>x<i>h (machine side) and sa<pid>x<i>n (namespace side). Interface
// names must stay within 15 bytes.
var namePattern = regexp.MustCompile(`^sa([0-9]+)x([0-9]+)[hn]?$`)

var prefix = "sa" + strconv.Itoa(os.Getpid()) + "x"

// Host is one test host: a network namespace with one address, and at most one
// process running inside it.
type Host struct {
	// Addr is the host's address inside its namespace, "198.18.<i>.2".
	Addr string

	name    string // the namespace
	veth    string // the machine's end of the veth pair
	logPath string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// NewHost creates host i (0 to 255) and returns it; t.Cleanup deletes it, with any
// process still running inside. It skips the test when namespaces cannot be used
// here or the machine routes part of 198.18.0.0/16.
func NewHost(t testing.TB, i int) *Host {
	t.Helper()
	if i < 0 || i > 255 {
		t.Fatalf("netns: host %d is outside 0..255", i)
	}
	if runtime.GOOS != "linux" {
		t.Skip("netns: network namespaces need Linux")
	}
	if os.Geteuid() != 0 {
		t.Skip("netns: creating network namespaces needs root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("netns: no ip command (iproute2) on this machine")
	}
	if err := acquire(); err != nil {
		t.Skipf("netns: %v", err)
	}
	name := prefix + strconv.Itoa(i)
	h := &Host{Addr: fmt.Sprintf("198.18.%d.2", i), name: name, veth: name + "h",
		logPath: filepath.Join(t.TempDir(), name+".log")}
	removeLeftovers(name)
	if conflict := routedRange(); conflict != "" {
		release()
		t.Skipf("netns: this machine already routes part of %s (%s); the test hosts need all of it", hostRange, conflict)
	}
	steps := [][]string{
		{"netns", "add", name},
		{"link", "add", h.veth, "type", "veth", "peer", "name", name + "n"},
		{"link", "set", name + "n", "netns", name},
		{"addr", "add", fmt.Sprintf("198.18.%d.1/24", i), "dev", h.veth},
		{"link", "set", h.veth, "up"},
		{"-n", name, "addr", "add", h.Addr + "/24", "dev", name + "n"},
		{"-n", name, "link", "set", name + "n", "up"},
		{"-n", name, "link", "set", "lo", "up"},
	}
	for n, step := range steps {
		if err := ip(step...); err != nil {
			h.remove()
			release()
			if n == 0 {
				t.Skipf("netns: network namespaces are not usable here: %v", err)
			}
			t.Fatalf("netns: %v", err)
		}
	}
	t.Cleanup(func() {
		h.Kill()
		if t.Failed() {
			if out, err := os.ReadFile(h.logPath); err == nil && len(out) > 0 {
				t.Logf("output of the process in %s (%s):\n%s", h.name, h.Addr, tail(string(out), 30))
			}
		}
		h.remove()
		release()
	})
	return h
}

// Name returns the namespace's name, for `ip netns exec`.
func (h *Host) Name() string { return h.name }

// Start runs args inside the namespace (`ip netns exec`), its output going to a log
// that a failed test prints. One process runs at a time: Kill or Stop it first to
// restart. The kernel kills the process if the test binary dies.
func (h *Host) Start(t testing.TB, args ...string) {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.cmd != nil {
		t.Fatalf("netns: %s already runs %v", h.name, h.cmd.Args[4:])
	}
	log, err := os.OpenFile(h.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	cmd := exec.Command("ip", append([]string{"netns", "exec", h.name}, args...)...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = procAttr()
	if err := cmd.Start(); err != nil {
		t.Fatalf("netns: start %v in %s: %v", args, h.name, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	h.cmd, h.done = cmd, done
}

// Kill ends the running process at once (SIGKILL), as a crashed pod, and waits for it.
func (h *Host) Kill() { h.end(syscall.SIGKILL, 0) }

// Stop ends the running process with SIGTERM, then SIGKILL after 5 s, and waits for it.
func (h *Host) Stop() { h.end(syscall.SIGTERM, 5*time.Second) }

func (h *Host) end(sig syscall.Signal, grace time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.cmd == nil {
		return
	}
	_ = h.cmd.Process.Signal(sig)
	select {
	case <-h.done:
	case <-time.After(grace):
		_ = h.cmd.Process.Kill()
		<-h.done
	}
	h.cmd, h.done = nil, nil
}

// WaitPort waits until the host accepts TCP connections on port, failing the test
// after timeout.
func (h *Host) WaitPort(t testing.TB, port int, timeout time.Duration) {
	t.Helper()
	addr := net.JoinHostPort(h.Addr, strconv.Itoa(port))
	deadline := time.Now().Add(timeout)
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			conn.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("netns: %s not listening after %v: %v", addr, timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// remove kills whatever still runs in the namespace and deletes the veth pair and the
// namespace, ignoring what does not exist.
func (h *Host) remove() {
	if out, err := exec.Command("ip", "netns", "pids", h.name).Output(); err == nil {
		for _, field := range strings.Fields(string(out)) {
			if pid, err := strconv.Atoi(field); err == nil {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	}
	_ = ip("link", "del", h.veth)
	_ = ip("netns", "del", h.name)
}

// removeLeftovers deletes the namespaces and links that an earlier run left behind:
// those named like ours by a process that no longer runs, and those named own.
func removeLeftovers(own string) {
	var names []string
	if out, err := exec.Command("ip", "netns", "list").Output(); err == nil {
		for _, line := range strings.Split(string(out), "\n") {
			if fields := strings.Fields(line); len(fields) > 0 {
				names = append(names, fields[0])
			}
		}
	}
	if out, err := exec.Command("ip", "-o", "link", "show").Output(); err == nil {
		for _, line := range strings.Split(string(out), "\n") {
			// "7: sa123x0h@if6: <BROADCAST,...>"
			if fields := strings.Fields(line); len(fields) > 1 {
				name, _, _ := strings.Cut(strings.TrimSuffix(fields[1], ":"), "@")
				names = append(names, strings.TrimSuffix(strings.TrimSuffix(name, "h"), "n"))
			}
		}
	}
	for _, name := range names {
		m := namePattern.FindStringSubmatch(name)
		if m == nil {
			continue
		}
		pid, _ := strconv.Atoi(m[1])
		if name == own || (pid != os.Getpid() && syscall.Kill(pid, 0) == syscall.ESRCH) {
			(&Host{name: name, veth: name + "h"}).remove()
		}
	}
}

// routedRange returns a description of an address or route of this machine that
// overlaps hostRange, other than this process's own hosts; "" when there is none.
func routedRange() string {
	out, err := exec.Command("ip", "-4", "-o", "addr", "show").Output()
	if err != nil {
		return "ip addr: " + err.Error()
	}
	for _, line := range strings.Split(string(out), "\n") {
		// "4: eth0    inet 192.0.2.2/24 brd 192.0.2.255 scope global eth0"
		fields := strings.Fields(line)
		if len(fields) < 4 || fields[2] != "inet" || strings.HasPrefix(fields[1], prefix) {
			continue
		}
		if p, err := netip.ParsePrefix(fields[3]); err == nil && hostRange.Contains(p.Addr()) {
			return "address " + fields[3] + " on " + fields[1]
		}
	}
	out, err = exec.Command("ip", "-4", "-o", "route", "show", "table", "all").Output()
	if err != nil {
		return "ip route: " + err.Error()
	}
	for _, line := range strings.Split(string(out), "\n") {
		fields := strings.Fields(line)
		if len(fields) > 1 && routeTypes[fields[0]] {
			fields = fields[1:]
		}
		if len(fields) == 0 || fields[0] == "default" || viaOwnHost(fields) {
			continue
		}
		dst := fields[0]
		if !strings.Contains(dst, "/") {
			dst += "/32"
		}
		if p, err := netip.ParsePrefix(dst); err == nil && p.Bits() > 0 && p.Overlaps(hostRange) {
			return "route " + strings.TrimSpace(line)
		}
	}
	return ""
}

// routeTypes are the words that may come before a route's destination.
var routeTypes = map[string]bool{"unicast": true, "local": true, "broadcast": true, "multicast": true,
	"anycast": true, "blackhole": true, "unreachable": true, "prohibit": true, "throw": true, "nat": true}

func viaOwnHost(fields []string) bool {
	for i := 0; i+1 < len(fields); i++ {
		if fields[i] == "dev" {
			return strings.HasPrefix(fields[i+1], prefix)
		}
	}
	return false
}

func ip(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
