package stack

import (
	"fmt"
	"net"
	"strings"
	"sync"

	"github.com/miekg/dns"
)

// DNS is a small authoritative DNS server on 127.0.0.1 whose A and SRV records can
// change while it runs; the provider's DNS discovery points its resolver at it, so that a
// scale event is a real membership change the provider sees.
type DNS struct {
	// Addr is the server's host:port (UDP).
	Addr string

	server *dns.Server
	mu     sync.Mutex
	a      map[string][]string // by lower-case FQDN
	srv    map[string][]SRV    // by lower-case FQDN
}

// SRV is one SRV record's target and port.
type SRV struct {
	Target string
	Port   int
}

// StartDNS starts a DNS server on a free UDP port of 127.0.0.1.
func StartDNS() (*DNS, error) {
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	d := &DNS{Addr: conn.LocalAddr().String(), a: map[string][]string{}, srv: map[string][]SRV{}}
	d.server = &dns.Server{PacketConn: conn, Handler: d}
	go func() { _ = d.server.ActivateAndServe() }()
	return d, nil
}

// SetA replaces the A records of name; no addresses removes the name.
func (d *DNS) SetA(name string, addresses ...string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.a[strings.ToLower(dns.Fqdn(name))] = append([]string(nil), addresses...)
}

// SetSRV replaces the SRV records of name; no records removes them.
func (d *DNS) SetSRV(name string, records ...SRV) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.srv[strings.ToLower(dns.Fqdn(name))] = append([]SRV(nil), records...)
}

// Close stops the server.
func (d *DNS) Close() error { return d.server.Shutdown() }

// ServeDNS answers A and SRV queries from the records, with a TTL of 1 second; a name
// with neither gets NXDOMAIN.
func (d *DNS) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	resp := new(dns.Msg)
	resp.SetReply(req)
	resp.Authoritative = true
	if len(req.Question) == 1 {
		q := req.Question[0]
		name := strings.ToLower(q.Name)
		d.mu.Lock()
		addresses, services := d.a[name], d.srv[name]
		d.mu.Unlock()
		if len(addresses) == 0 && len(services) == 0 {
			resp.Rcode = dns.RcodeNameError
		}
		var answers []string
		if q.Qtype == dns.TypeA {
			for _, address := range addresses {
				answers = append(answers, fmt.Sprintf("%s 1 IN A %s", q.Name, address))
			}
		}
		if q.Qtype == dns.TypeSRV {
			for _, s := range services {
				answers = append(answers, fmt.Sprintf("%s 1 IN SRV 0 1 %d %s", q.Name, s.Port, dns.Fqdn(s.Target)))
			}
		}
		for _, answer := range answers {
			if rr, err := dns.NewRR(answer); err == nil {
				resp.Answer = append(resp.Answer, rr)
			}
		}
	}
	_ = w.WriteMsg(resp)
}
