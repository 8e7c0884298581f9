package stack

import (
	"fmt"
	"net"
	"strings"
	"sync"

	"github.com/miekg/dns"
)

// DNS is a small authoritative DNS server on 127.0.0.1 whose A records can change
// while it runs; the provider's DNS discovery points its resolver at it, so that a
// scale event is a real membership change the provider sees.
type DNS struct {
	// Addr is the server's host:port (UDP).
	Addr string

	server *dns.Server
	mu     sync.Mutex
	a      map[string][]string // by lower-case FQDN
}

// StartDNS starts a DNS server on a free UDP port of 127.0.0.1.
func StartDNS() (*DNS, error) {
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	d := &DNS{Addr: conn.LocalAddr().String(), a: map[string][]string{}}
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

// Close stops the server.
func (d *DNS) Close() error { return d.server.Shutdown() }

// ServeDNS answers A queries from the records, with a TTL of 1 second.
func (d *DNS) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	resp := new(dns.Msg)
	resp.SetReply(req)
	resp.Authoritative = true
	if len(req.Question) == 1 {
		q := req.Question[0]
		d.mu.Lock()
		addresses := d.a[strings.ToLower(q.Name)]
		d.mu.Unlock()
		if len(addresses) == 0 {
			resp.Rcode = dns.RcodeNameError
		}
		for _, address := range addresses {
			if q.Qtype != dns.TypeA {
				continue
			}
			rr, err := dns.NewRR(fmt.Sprintf("%s 1 IN A %s", q.Name, address))
			if err == nil {
				resp.Answer = append(resp.Answer, rr)
			}
		}
	}
	_ = w.WriteMsg(resp)
}
