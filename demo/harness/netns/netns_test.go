package netns

import (
	"io"
	"net"
	"net/http"
	"os"
	"testing"
	"time"
)

// TestMain lets the test binary serve as the process inside a host: with
// NETNS_TEST_LISTEN set, it answers HTTP on that address with the address.
func TestMain(m *testing.M) {
	if addr := os.Getenv("NETNS_TEST_LISTEN"); addr != "" {
		_ = http.ListenAndServe(addr, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			_, _ = io.WriteString(w, addr)
		}))
		os.Exit(1)
	}
	os.Exit(m.Run())
}

func TestHostsAnswerOnTheirOwnAddresses(t *testing.T) {
	hosts := []*Host{NewHost(t, 0), NewHost(t, 1)}
	for _, h := range hosts {
		addr := net.JoinHostPort(h.Addr, "8080")
		h.Start(t, "env", "NETNS_TEST_LISTEN="+addr, os.Args[0])
		h.WaitPort(t, 8080, 10*time.Second)
		if got := get(t, "http://"+addr); got != addr {
			t.Errorf("%s answered %q", addr, got)
		}
	}
	// A killed process stops answering; a restarted one answers again.
	h := hosts[1]
	h.Kill()
	if _, err := net.DialTimeout("tcp", net.JoinHostPort(h.Addr, "8080"), time.Second); err == nil {
		t.Errorf("%s still accepts connections after Kill", h.Addr)
	}
	h.Start(t, "env", "NETNS_TEST_LISTEN="+net.JoinHostPort(h.Addr, "8080"), os.Args[0])
	h.WaitPort(t, 8080, 10*time.Second)
}

func get(t *testing.T, url string) string {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return string(body)
}
