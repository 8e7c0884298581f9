package stack

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/miekg/dns"
)

// DNS is a small authoritative DNS server on 127.0.0.1 whose records can change while it
// runs; the provider's DNS discovery points its resolver at it, so that a scale event is a
// real membership change the provider sees. A name without records answers NXDOMAIN;
// every name, or one chosen name, can be made to answer SERVFAIL; queries are counted per
// name.
type DNS struct {
	// Addr is the server's host:port (UDP).
	Addr string

	server       *dns.Server
	mu           sync.Mutex
	records      map[string][]dns.RR // by lower-case FQDN
	servfailAll  bool
	servfailName string
	counts       map[string]int
}

// SRV is one SRV record's target and port.
type SRV struct {
	Target string
	Port   int
}

// StartDNS starts a DNS server on a free UDP port of 127.0.0.1.
func StartDNS() (*DNS, error) { return StartDNSAt("127.0.0.1:0") }

// StartDNSAt starts a DNS server on addr. A fixed port that a server has just closed
// may still be bound for a moment (Go closes the socket once its last reply is written),
// so "address already in use" is retried, backing off, for up to 5 s.
func StartDNSAt(addr string) (*DNS, error) {
	conn, err := listenUDP(addr)
	if err != nil {
		return nil, err
	}
	d := &DNS{Addr: conn.LocalAddr().String(), records: map[string][]dns.RR{}, counts: map[string]int{}}
	started, failed := make(chan struct{}), make(chan error, 1)
	d.server = &dns.Server{PacketConn: conn, Handler: d, NotifyStartedFunc: func() { close(started) }}
	go func() { failed <- d.server.ActivateAndServe() }()
	select { // a Shutdown before the start would leave the port bound
	case <-started:
		return d, nil
	case err := <-failed:
		_ = conn.Close()
		return nil, fmt.Errorf("DNS server on %s: %w", d.Addr, err)
	}
}

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

// Set replaces the records of name, given in zone-file syntax; none removes the name.
func (d *DNS) Set(name string, records ...string) error {
	var rrs []dns.RR
	for _, r := range records {
		rr, err := dns.NewRR(r)
		if err != nil {
			return err
		}
		rrs = append(rrs, rr)
	}
	d.put(name, rrs)
	return nil
}

// SetA replaces the records of name by A records with a TTL of 1 second; no addresses
// removes the name.
func (d *DNS) SetA(name string, addresses ...string) {
	var rrs []dns.RR
	for _, address := range addresses {
		rrs = append(rrs, &dns.A{Hdr: header(name, dns.TypeA), A: net.ParseIP(address)})
	}
	d.put(name, rrs)
}

// SetSRV replaces the records of name by SRV records with a TTL of 1 second; none
// removes the name.
func (d *DNS) SetSRV(name string, services ...SRV) {
	var rrs []dns.RR
	for _, s := range services {
		rrs = append(rrs, &dns.SRV{Hdr: header(name, dns.TypeSRV), Weight: 1, Port: uint16(s.Port), Target: dns.Fqdn(s.Target)})
	}
	d.put(name, rrs)
}

func header(name string, rrtype uint16) dns.RR_Header {
	return dns.RR_Header{Name: dns.Fqdn(name), Rrtype: rrtype, Class: dns.ClassINET, Ttl: 1}
}

func (d *DNS) put(name string, rrs []dns.RR) {
	key := strings.ToLower(dns.Fqdn(name))
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(rrs) == 0 {
		delete(d.records, key)
	} else {
		d.records[key] = rrs
	}
}

// SetServfail makes every name answer SERVFAIL, or none.
func (d *DNS) SetServfail(on bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.servfailAll = on
}

// SetServfailFor makes one name answer SERVFAIL; "" turns that off.
func (d *DNS) SetServfailFor(name string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.servfailName = strings.ToLower(name)
}

// Queries returns how many queries asked for name.
func (d *DNS) Queries(name string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.counts[strings.ToLower(name)]
}

// Close stops the server and frees its port.
func (d *DNS) Close() error {
	err := d.server.Shutdown()
	_ = d.server.PacketConn.Close()
	return err
}

// ServeDNS answers a query from the records of its type.
func (d *DNS) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	d.mu.Lock()
	defer d.mu.Unlock()
	resp := new(dns.Msg)
	resp.SetReply(req)
	resp.Authoritative = true
	if len(req.Question) == 1 {
		q := req.Question[0]
		name := strings.ToLower(q.Name)
		d.counts[name]++
		rrs, found := d.records[name]
		switch {
		case d.servfailAll || name == d.servfailName:
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
