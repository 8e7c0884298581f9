package provider

import (
	"errors"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// dnsServer is an authoritative DNS server on 127.0.0.1 whose records tests change:
// NXDOMAIN for every name without records, SERVFAIL for every name or for one chosen
// name, and a count of the queries per name.
type dnsServer struct {
	addr string

	mu           sync.Mutex
	records      map[string][]dns.RR // by lower-case FQDN
	servfailAll  bool
	servfailName string
	counts       map[string]int
}

// startDNS starts a server on a free port of 127.0.0.1.
func startDNS(t *testing.T) *dnsServer { return startDNSAt(t, "127.0.0.1:0") }

// startDNSAt starts a server on addr.
func startDNSAt(t *testing.T, addr string) *dnsServer {
	t.Helper()
	conn, err := listenUDP(addr)
	if err != nil {
		t.Fatal(err)
	}
	s := &dnsServer{addr: conn.LocalAddr().String(), records: map[string][]dns.RR{}, counts: map[string]int{}}
	started := make(chan struct{})
	server := &dns.Server{PacketConn: conn, Handler: s, NotifyStartedFunc: func() { close(started) }}
	go func() { _ = server.ActivateAndServe() }()
	<-started // a Shutdown before the start would leave the port bound
	t.Cleanup(func() {
		_ = server.Shutdown()
		_ = conn.Close()
	})
	return s
}

// listenUDP listens on addr. A fixed port that the previous test's server has just
// closed may still be bound for a moment (Go closes the socket once its last reply is
// written), so "address already in use" is retried, backing off, for up to 5 s.
func listenUDP(addr string) (net.PacketConn, error) {
	deadline := time.Now().Add(5 * time.Second)
	for wait := 10 * time.Millisecond; ; wait *= 2 {
		conn, err := net.ListenPacket("udp", addr)
		if err == nil || !errors.Is(err, syscall.EADDRINUSE) || time.Now().After(deadline) {
			return conn, err
		}
		time.Sleep(wait)
	}
}

// set replaces the records of a name, given in zone-file syntax; none removes the name.
func (s *dnsServer) set(t *testing.T, name string, records ...string) {
	t.Helper()
	var rrs []dns.RR
	for _, r := range records {
		rr, err := dns.NewRR(r)
		if err != nil {
			t.Fatal(err)
		}
		rrs = append(rrs, rr)
	}
	key := strings.ToLower(dns.Fqdn(name))
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(rrs) == 0 {
		delete(s.records, key)
	} else {
		s.records[key] = rrs
	}
}

// setServfail makes every name answer SERVFAIL, or none.
func (s *dnsServer) setServfail(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.servfailAll = on
}

// setServfailFor makes one name answer SERVFAIL; "" turns that off.
func (s *dnsServer) setServfailFor(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.servfailName = strings.ToLower(name)
}

// queries returns how many queries asked for name.
func (s *dnsServer) queries(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[strings.ToLower(name)]
}

func (s *dnsServer) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	s.mu.Lock()
	defer s.mu.Unlock()
	resp := new(dns.Msg)
	resp.SetReply(req)
	resp.Authoritative = true
	if len(req.Question) == 1 {
		q := req.Question[0]
		name := strings.ToLower(q.Name)
		s.counts[name]++
		rrs, found := s.records[name]
		switch {
		case s.servfailAll || name == s.servfailName:
			resp.Rcode = dns.RcodeServerFailure
		case !found:
			resp.Rcode = dns.RcodeNameError
		default:
			for _, rr := range rrs {
				if rr.Header().Rrtype == q.Qtype {
					resp.Answer = append(resp.Answer, rr)
				}
			}
		}
	}
	_ = w.WriteMsg(resp)
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
			server := startDNS(t)
			server.set(t, "pos.test", "pos.test. 1 IN A 127.0.0.2", "pos.test. 1 IN A 127.0.0.1", "pos.test. 1 IN AAAA ::1")
			r := start(t, newProvider(t, runtime, dnsConfig("pos.test", "8080", server.addr)))
			r.waitMembers(t, "pos", "pos-127.0.0.1=http://127.0.0.1:8080,pos-127.0.0.2=http://127.0.0.2:8080,pos-::1=http://[::1]:8080", 5*time.Second)
			r.expectQuiet(t, 400*time.Millisecond) // unchanged lookups emit nothing

			server.set(t, "pos.test", "pos.test. 1 IN A 127.0.0.1", "pos.test. 1 IN A 127.0.0.3")
			r.waitMembers(t, "pos", "pos-127.0.0.1=http://127.0.0.1:8080,pos-127.0.0.3=http://127.0.0.3:8080", 5*time.Second)

			server.setServfail(true) // a failing resolver keeps the last members
			r.expectQuiet(t, 500*time.Millisecond)
			server.setServfail(false)

			server.set(t, "pos.test") // the name is gone: no members
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
			server := startDNS(t)
			server.set(t, "pos-0.pos.test", "pos-0.pos.test. 1 IN A 127.0.0.10")
			server.set(t, "pos-1.pos.test", "pos-1.pos.test. 1 IN AAAA ::1", "pos-1.pos.test. 1 IN A 127.0.0.11")
			server.set(t, "_http._tcp.pos.test",
				"_http._tcp.pos.test. 1 IN SRV 0 1 8081 pos-1.pos.test.",
				"_http._tcp.pos.test. 1 IN SRV 0 1 8080 pos-0.pos.test.",
				"_http._tcp.pos.test. 1 IN SRV 0 1 8083 pos-9.pos.test.")
			r := start(t, newProvider(t, runtime, dnsConfig("_http._tcp.pos.test", "", server.addr)))
			r.waitMembers(t, "pos", "pos-pos-0.pos.test=http://127.0.0.10:8080,pos-pos-1.pos.test=http://127.0.0.11:8081", 5*time.Second)

			server.set(t, "pos-2.pos.test", "pos-2.pos.test. 1 IN A 127.0.0.12")
			server.set(t, "_http._tcp.pos.test", "_http._tcp.pos.test. 1 IN SRV 0 1 8082 pos-2.pos.test.")
			r.waitMembers(t, "pos", "pos-pos-2.pos.test=http://127.0.0.12:8082", 5*time.Second)
		})
	}
}
