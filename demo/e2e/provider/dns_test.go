package provider

import (
	"testing"
	"time"

	"github.com/storeaffinity/storeaffinity/demo/harness/stack"
)

// startDNS starts a DNS server on addr (a free port when "") for the test.
func startDNS(t *testing.T, addr string) *stack.DNS {
	t.Helper()
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	server, err := stack.StartDNSAt(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = server.Close() })
	return server
}

// setRecords replaces the records of name, given in zone-file syntax.
func setRecords(t *testing.T, server *stack.DNS, name string, records ...string) {
	t.Helper()
	if err := server.Set(name, records...); err != nil {
		t.Fatal(err)
	}
}

func dnsConfig(name, port, resolver string) map[string]any {
	dnsOptions := map[string]any{"name": name, "interval": "100ms", "resolver": resolver}
	if port != "" {
		dnsOptions["port"] = port
	}
	return map[string]any{"apps": []any{map[string]any{"name": "pos", "dns": dnsOptions}}}
}

func TestDNSAddressRecordsFollowChanges(t *testing.T) {
	for _, runtime := range runtimes {
		t.Run(runtime, func(t *testing.T) {
			server := startDNS(t, "")
			setRecords(t, server, "pos.test", "pos.test. 1 IN A 127.0.0.2", "pos.test. 1 IN A 127.0.0.1", "pos.test. 1 IN AAAA ::1")
			r := start(t, newProvider(t, runtime, dnsConfig("pos.test", "8080", server.Addr)))
			r.waitMembers(t, "pos", "pos-127.0.0.1=http://127.0.0.1:8080,pos-127.0.0.2=http://127.0.0.2:8080,pos-::1=http://[::1]:8080", 5*time.Second)
			r.expectQuiet(t, 400*time.Millisecond) // unchanged lookups emit nothing

			setRecords(t, server, "pos.test", "pos.test. 1 IN A 127.0.0.1", "pos.test. 1 IN A 127.0.0.3")
			r.waitMembers(t, "pos", "pos-127.0.0.1=http://127.0.0.1:8080,pos-127.0.0.3=http://127.0.0.3:8080", 5*time.Second)

			server.SetServfail(true) // a failing resolver keeps the last members
			r.expectQuiet(t, 500*time.Millisecond)
			server.SetServfail(false)

			setRecords(t, server, "pos.test") // the name is gone: no members
			r.waitMembers(t, "pos", "", 5*time.Second)
		})
	}
}

// TestDNSServiceRecordsNameMembersByTarget checks SRV discovery through a configured
// resolver: members are named by target, and their URLs carry the target's address as
// that resolver gives it (Traefik itself only knows the system resolver). A target
// without an address is not a member.
func TestDNSServiceRecordsNameMembersByTarget(t *testing.T) {
	for _, runtime := range runtimes {
		t.Run(runtime, func(t *testing.T) {
			server := startDNS(t, "")
			setRecords(t, server, "pos-0.pos.test", "pos-0.pos.test. 1 IN A 127.0.0.10")
			setRecords(t, server, "pos-1.pos.test", "pos-1.pos.test. 1 IN AAAA ::1", "pos-1.pos.test. 1 IN A 127.0.0.11")
			setRecords(t, server, "_http._tcp.pos.test",
				"_http._tcp.pos.test. 1 IN SRV 0 1 8081 pos-1.pos.test.",
				"_http._tcp.pos.test. 1 IN SRV 0 1 8080 pos-0.pos.test.",
				"_http._tcp.pos.test. 1 IN SRV 0 1 8083 pos-9.pos.test.")
			r := start(t, newProvider(t, runtime, dnsConfig("_http._tcp.pos.test", "", server.Addr)))
			r.waitMembers(t, "pos", "pos-pos-0.pos.test=http://127.0.0.10:8080,pos-pos-1.pos.test=http://127.0.0.11:8081", 5*time.Second)

			setRecords(t, server, "pos-2.pos.test", "pos-2.pos.test. 1 IN A 127.0.0.12")
			setRecords(t, server, "_http._tcp.pos.test", "_http._tcp.pos.test. 1 IN SRV 0 1 8082 pos-2.pos.test.")
			r.waitMembers(t, "pos", "pos-pos-2.pos.test=http://127.0.0.12:8082", 5*time.Second)
		})
	}
}
