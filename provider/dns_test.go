package provider

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// DNS response codes the test responder uses.
const (
	dnsNoError  = 0
	dnsServFail = 2
	dnsNXDomain = 3
)

// dnsAnswer is the responder's answer to one question: a response code and the rdata
// of each answer record. A question the responder has no answer for gets NXDOMAIN.
type dnsAnswer struct {
	rcode   int
	records [][]byte
	delay   time.Duration // held back this long, so that it arrives after the others
	rotate  bool          // each reply starts one record further on, as round-robin DNS does
}

// dnsResponder is a minimal UDP DNS server on 127.0.0.1 that answers questions,
// keyed "name type" such as "pos.example. 1", from a table.
type dnsResponder struct {
	conn net.PacketConn

	mu      sync.Mutex
	answers map[string]dnsAnswer // changed through set
	asked   []string
	turns   map[string]int // replies so far to each rotating answer
}

func newDNSResponder(t *testing.T, answers map[string]dnsAnswer) *dnsResponder {
	t.Helper()
	// One port for UDP and TCP (for answers too long for UDP): a port free for one
	// may be taken for the other, so try a few.
	var conn net.PacketConn
	var tcp net.Listener
	for attempt := 0; ; attempt++ {
		var err error
		if conn, err = net.ListenPacket("udp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		if tcp, err = net.Listen("tcp", conn.LocalAddr().String()); err == nil {
			break
		}
		_ = conn.Close()
		if attempt == 20 {
			t.Fatal(err)
		}
	}
	r := &dnsResponder{conn: conn, answers: answers, turns: map[string]int{}}
	done := make(chan struct{})
	go r.serve(done)
	tcpDone := make(chan struct{})
	go r.serveTCP(tcp, tcpDone)
	t.Cleanup(func() {
		_ = conn.Close()
		_ = tcp.Close()
		<-done
		<-tcpDone
	})
	return r
}

// serveTCP answers length-prefixed queries on each connection until l is closed.
func (r *dnsResponder) serveTCP(l net.Listener, done chan struct{}) {
	defer close(done)
	var conns sync.WaitGroup
	defer conns.Wait()
	for {
		conn, err := l.Accept()
		if err != nil {
			return
		}
		conns.Add(1)
		go func(conn net.Conn) {
			defer conns.Done()
			defer conn.Close()
			for {
				var size [2]byte
				if _, err := io.ReadFull(conn, size[:]); err != nil {
					return
				}
				query := make([]byte, binary.BigEndian.Uint16(size[:]))
				if _, err := io.ReadFull(conn, query); err != nil {
					return
				}
				reply, delay := r.reply(query)
				if reply == nil {
					return
				}
				time.Sleep(delay)
				if _, err := conn.Write(append(binary.BigEndian.AppendUint16(nil, uint16(len(reply))), reply...)); err != nil {
					return
				}
			}
		}(conn)
	}
}

// serve answers queries until the connection is closed.
func (r *dnsResponder) serve(done chan struct{}) {
	var delayed sync.WaitGroup
	defer close(done)
	defer delayed.Wait()
	buf := make([]byte, 1500)
	for {
		n, from, err := r.conn.ReadFrom(buf)
		if err != nil {
			return
		}
		reply, delay := r.reply(buf[:n])
		if reply == nil {
			continue
		}
		if len(reply) > 512 {
			reply = truncated(reply, n)
		}
		if delay == 0 {
			_, _ = r.conn.WriteTo(reply, from)
			continue
		}
		delayed.Add(1)
		go func(reply []byte, from net.Addr, delay time.Duration) {
			defer delayed.Done()
			time.Sleep(delay)
			_, _ = r.conn.WriteTo(reply, from)
		}(reply, from, delay)
	}
}

// reply builds the response to one query and says how long to hold it back; the
// response is nil for a query it cannot parse.
func (r *dnsResponder) reply(query []byte) ([]byte, time.Duration) {
	if len(query) < 12 {
		return nil, 0
	}
	var labels []string
	end := 12
	for end < len(query) && query[end] != 0 {
		size := int(query[end])
		if end+1+size > len(query) {
			return nil, 0
		}
		labels = append(labels, string(query[end+1:end+1+size]))
		end += 1 + size
	}
	end += 5 // the root label, then type and class
	if end > len(query) {
		return nil, 0
	}
	qtype := int(binary.BigEndian.Uint16(query[end-4:]))
	key := strings.ToLower(strings.Join(labels, ".")) + ". " + strconv.Itoa(qtype)
	r.mu.Lock()
	r.asked = append(r.asked, key)
	answer, ok := r.answers[key]
	if ok && answer.rotate && len(answer.records) > 0 {
		turn := r.turns[key] % len(answer.records)
		r.turns[key]++
		answer.records = append(append([][]byte{}, answer.records[turn:]...), answer.records[:turn]...)
	}
	r.mu.Unlock()
	if !ok {
		answer = dnsAnswer{rcode: dnsNXDomain}
	}
	// Header: the query's ID and RD bit; QR, AA and RA set; one question.
	reply := []byte{query[0], query[1], 0x84 | query[2]&0x01, 0x80 | byte(answer.rcode), 0, 1, byte(len(answer.records) >> 8), byte(len(answer.records)), 0, 0, 0, 0}
	reply = append(reply, query[12:end]...)
	for _, rdata := range answer.records {
		reply = append(reply, 0xc0, 12) // the question's name
		reply = binary.BigEndian.AppendUint16(reply, uint16(qtype))
		reply = append(reply, 0, 1, 0, 0, 0, 60) // class IN, TTL 60
		reply = binary.BigEndian.AppendUint16(reply, uint16(len(rdata)))
		reply = append(reply, rdata...)
	}
	return reply, answer.delay
}

// truncated returns the header and question of reply (the query's first n bytes
// long) with the TC bit set and no answers: the resolver then asks over TCP.
func truncated(reply []byte, n int) []byte {
	short := append([]byte{}, reply[:n]...)
	short[2] |= 0x02
	short[6], short[7] = 0, 0
	return short
}

// set changes the answer to a question while the responder serves.
func (r *dnsResponder) set(key string, answer dnsAnswer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.answers[key] = answer
}

// times returns how often the question key was asked.
func (r *dnsResponder) times(key string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, q := range r.asked {
		if q == key {
			n++
		}
	}
	return n
}

// questions returns the questions asked so far, sorted and without repeats.
func (r *dnsResponder) questions() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	seen := make(map[string]bool)
	var out []string
	for _, q := range r.asked {
		if !seen[q] {
			seen[q] = true
			out = append(out, q)
		}
	}
	sort.Strings(out)
	return out
}

func ipRecord(ip string) []byte {
	parsed := net.ParseIP(ip)
	if v4 := parsed.To4(); v4 != nil {
		return v4
	}
	return parsed.To16()
}

func srvRecord(port int, target string) []byte { return srvRecordAt(10, port, target) }

// srvRecordAt is an SRV record of the given priority.
func srvRecordAt(priority, port int, target string) []byte {
	rdata := []byte{0, byte(priority), 0, 10} // priority, weight
	rdata = binary.BigEndian.AppendUint16(rdata, uint16(port))
	return append(rdata, nameRecord(target)...)
}

// nameRecord is a domain name in wire format: the rdata of a PTR record.
func nameRecord(name string) []byte {
	var rdata []byte
	for _, label := range strings.Split(strings.TrimSuffix(name, "."), ".") {
		if label == "" {
			continue // the root, "."
		}
		rdata = append(rdata, byte(len(label)))
		rdata = append(rdata, label...)
	}
	return append(rdata, 0)
}

func TestDNSOnlyAuthoritativeAnswersChangeMembers(t *testing.T) {
	const srvName = "_http._tcp.pos.example."
	srv := func(targets ...string) dnsAnswer {
		answer := dnsAnswer{}
		for _, target := range targets {
			answer.records = append(answer.records, srvRecord(8080, target))
		}
		return answer
	}
	addresses := func(ips ...string) dnsAnswer {
		answer := dnsAnswer{}
		for _, ip := range ips {
			answer.records = append(answer.records, ipRecord(ip))
		}
		return answer
	}
	servFail, noData := dnsAnswer{rcode: dnsServFail}, dnsAnswer{rcode: dnsNoError}
	// NODATA after SERVFAIL: Go's default resolver reports whichever came last.
	lateNoData := dnsAnswer{rcode: dnsNoError, delay: 50 * time.Millisecond}
	tests := []struct {
		name    string
		lookup  string // the configured name
		answers map[string]dnsAnswer
		want    string // members, or "keep" when the lookup must keep the last list
	}{
		{
			name:   "SRV targets resolved through the resolver",
			lookup: "_http._tcp.pos.example",
			answers: map[string]dnsAnswer{
				srvName + " 33":         srv("pos-1.pos.example.", "pos-0.pos.example."),
				"pos-0.pos.example. 1":  addresses("10.0.0.1"),
				"pos-0.pos.example. 28": noData,
				"pos-1.pos.example. 1":  addresses("10.0.0.2"),
				"pos-1.pos.example. 28": addresses("fd00::2"),
			},
			want: "pos-0.pos.example=http://10.0.0.1:8080 pos-1.pos.example=http://10.0.0.2:8080",
		},
		{
			name:    "SRV SERVFAIL keeps the last list",
			lookup:  "_http._tcp.pos.example",
			answers: map[string]dnsAnswer{srvName + " 33": servFail},
			want:    "keep",
		},
		{
			name:    "SRV NXDOMAIN means no members",
			lookup:  "_http._tcp.pos.example",
			answers: map[string]dnsAnswer{},
			want:    "",
		},
		{
			name:    "SRV NODATA means no members",
			lookup:  "_http._tcp.pos.example",
			answers: map[string]dnsAnswer{srvName + " 33": noData},
			want:    "",
		},
		{
			name:   "SRV target SERVFAIL keeps the last list",
			lookup: "_http._tcp.pos.example",
			answers: map[string]dnsAnswer{
				srvName + " 33":         srv("pos-0.pos.example.", "pos-1.pos.example."),
				"pos-0.pos.example. 1":  addresses("10.0.0.1"),
				"pos-0.pos.example. 28": noData,
				"pos-1.pos.example. 1":  servFail,
				"pos-1.pos.example. 28": lateNoData,
			},
			want: "keep",
		},
		{
			name:   "SRV target NXDOMAIN leaves that target out",
			lookup: "_http._tcp.pos.example",
			answers: map[string]dnsAnswer{
				srvName + " 33":         srv("pos-0.pos.example.", "pos-1.pos.example."),
				"pos-0.pos.example. 1":  addresses("10.0.0.1"),
				"pos-0.pos.example. 28": noData,
			},
			want: "pos-0.pos.example=http://10.0.0.1:8080",
		},
		{
			name:   "SRV target '.' means the service is not available",
			lookup: "_http._tcp.pos.example",
			answers: map[string]dnsAnswer{
				srvName + " 33":         srv(".", "pos-0.pos.example."),
				"pos-0.pos.example. 1":  addresses("10.0.0.1"),
				"pos-0.pos.example. 28": noData,
			},
			want: "pos-0.pos.example=http://10.0.0.1:8080",
		},
		{
			name:    "an SRV answer that never comes keeps the last list",
			lookup:  "_http._tcp.pos.example",
			answers: map[string]dnsAnswer{srvName + " 33": {records: srv("pos-0.pos.example.").records, delay: 2 * time.Second}},
			want:    "keep",
		},
		{
			name:    "an A answer that never comes keeps the last list",
			lookup:  "pos.example",
			answers: map[string]dnsAnswer{"pos.example. 1": {records: addresses("10.0.0.1").records, delay: 2 * time.Second}, "pos.example. 28": noData},
			want:    "keep",
		},
		{
			name:    "A and AAAA records",
			lookup:  "pos.example",
			answers: map[string]dnsAnswer{"pos.example. 1": addresses("10.0.0.2", "10.0.0.1"), "pos.example. 28": addresses("fd00::1")},
			want:    "10.0.0.1=http://10.0.0.1:80 10.0.0.2=http://10.0.0.2:80 fd00::1=http://[fd00::1]:80",
		},
		{
			name:    "A SERVFAIL and AAAA NODATA keeps the last list",
			lookup:  "pos.example",
			answers: map[string]dnsAnswer{"pos.example. 1": servFail, "pos.example. 28": lateNoData},
			want:    "keep",
		},
		{
			name:    "A and AAAA NXDOMAIN means no members",
			lookup:  "pos.example",
			answers: map[string]dnsAnswer{},
			want:    "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			responder := newDNSResponder(t, tt.answers)
			src, err := newDNSSource("dns", &DNSDiscovery{Name: tt.lookup, Port: portFor(tt.lookup), Interval: "500ms", Resolver: responder.conn.LocalAddr().String()})
			if err != nil {
				t.Fatal(err)
			}
			members, ok := src.lookup(context.Background())
			got := "keep"
			if ok {
				var pairs []string
				for _, m := range sortMembers(members) {
					pairs = append(pairs, m.Name+"="+m.URL)
				}
				got = strings.Join(pairs, " ")
			}
			if got != tt.want {
				t.Errorf("lookup = %q, want %q", got, tt.want)
			}
			// Only the rooted names: a search list must never be tried.
			for _, q := range responder.questions() {
				if !strings.HasSuffix(strings.Fields(q)[0], ".pos.example.") && !strings.HasPrefix(q, "pos.example. ") {
					t.Errorf("asked %q, a name outside the configured one", q)
				}
			}
		})
	}
}

// portFor gives A/AAAA lookups their port; SRV lookups use the record's port.
func portFor(name string) string {
	if strings.HasPrefix(name, "_") {
		return ""
	}
	return "80"
}

// TestSRVDotTargetIsNoMember: without a resolver of its own, an SRV target
// of "." would become a member named "" at http://:8080.
func TestSRVDotTargetIsNoMember(t *testing.T) {
	for _, targets := range [][]string{{"."}, {".", "pos-0.pos.example."}} {
		var records [][]byte
		for _, target := range targets {
			records = append(records, srvRecord(8080, target))
		}
		responder := newDNSResponder(t, map[string]dnsAnswer{"_http._tcp.pos.example. 33": {records: records}})
		src, err := newDNSSource("dns", &DNSDiscovery{Name: "_http._tcp.pos.example"})
		if err != nil {
			t.Fatal(err)
		}
		src.resolver = responder.resolver() // the SRV lookup only: the targets are not resolved
		members, ok := src.lookup(context.Background())
		if !ok || len(members) != len(targets)-1 {
			t.Fatalf("targets %q: members %v (ok %v), want %d", targets, members, ok, len(targets)-1)
		}
		for _, m := range members {
			if m.Name == "" || strings.Contains(m.URL, "//:") {
				t.Errorf("targets %q: member %+v", targets, m)
			}
		}
	}
}

// TestManySRVTargetsResolveWithinAnInterval: 1,000 targets whose every answer takes
// 25 ms resolve within one 2 s interval, and so do 24 within 1 s.
func TestManySRVTargetsResolveWithinAnInterval(t *testing.T) {
	for _, tc := range []struct {
		targets  int
		interval time.Duration
	}{{24, time.Second}, {1000, 2 * time.Second}} {
		answers := map[string]dnsAnswer{}
		var srv dnsAnswer
		for i := 0; i < tc.targets; i++ {
			target := fmt.Sprintf("pos-%d.pos.example.", i)
			srv.records = append(srv.records, srvRecord(8080, target))
			answers[target+" 1"] = dnsAnswer{records: [][]byte{ipRecord(fmt.Sprintf("10.0.%d.%d", i/250, i%250+1))}, delay: 25 * time.Millisecond}
			answers[target+" 28"] = dnsAnswer{delay: 25 * time.Millisecond}
		}
		answers["_http._tcp.pos.example. 33"] = srv
		responder := newDNSResponder(t, answers)
		src, err := newDNSSource("dns", &DNSDiscovery{Name: "_http._tcp.pos.example", Interval: tc.interval.String(), Resolver: responder.conn.LocalAddr().String()})
		if err != nil {
			t.Fatal(err)
		}
		started := time.Now()
		members, ok := src.lookup(context.Background())
		if took := time.Since(started); !ok || len(members) != tc.targets || took > tc.interval {
			t.Errorf("%d targets at 25 ms an answer: %d members (ok %v) after %v, want all within %v", tc.targets, len(members), ok, took, tc.interval)
		}
	}
}

// resolver returns a resolver that asks the responder only.
func (r *dnsResponder) resolver() *net.Resolver {
	address := r.conn.LocalAddr().String()
	return &net.Resolver{PreferGo: true, StrictErrors: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, address)
	}}
}

// TestSRVTargetsAreNamedAlikeEveryLookup: one target listed with two ports (two
// instances on one host) is two members, named target:port, whatever order the answer
// comes in; backup records of a higher priority value are no members.
func TestSRVTargetsAreNamedAlikeEveryLookup(t *testing.T) {
	responder := newDNSResponder(t, map[string]dnsAnswer{"_http._tcp.pos.example. 33": {records: [][]byte{
		srvRecord(8080, "node1.pos.example."), srvRecord(8081, "node1.pos.example."), srvRecord(8080, "node2.pos.example."),
		srvRecordAt(20, 8080, "backup.pos.example."),
	}}})
	src, err := newDNSSource("dns", &DNSDiscovery{Name: "_http._tcp.pos.example"})
	if err != nil {
		t.Fatal(err)
	}
	src.resolver = responder.resolver()
	const want = "node1.pos.example-8080=http://node1.pos.example:8080 node1.pos.example-8081=http://node1.pos.example:8081 node2.pos.example=http://node2.pos.example:8080"
	for i := 0; i < 20; i++ {
		members, ok := src.lookup(context.Background())
		var pairs []string
		for _, m := range sortMembers(members) {
			pairs = append(pairs, m.Name+"="+m.URL)
		}
		if got := strings.Join(pairs, " "); !ok || got != want {
			t.Fatalf("lookup %d: %q (ok %v), want %q", i, got, ok, want)
		}
	}
}

// TestReverseNamesSurviveAnAddressChange: with memberNames reverse, a member is the
// first label of its address's PTR name (Docker's container name), so a replica that
// comes back on another address keeps its name and its stores. An address without a
// PTR name, or whose label is taken, is named by its address; a failed PTR query keeps
// the last list.
func TestReverseNamesSurviveAnAddressChange(t *testing.T) {
	ptr := func(name string) dnsAnswer { return dnsAnswer{records: [][]byte{nameRecord(name)}} }
	answers := map[string]dnsAnswer{
		"commerce. 1":                 {records: [][]byte{ipRecord("198.19.0.3"), ipRecord("198.19.0.2"), ipRecord("198.19.0.4"), ipRecord("198.19.0.5")}},
		"2.0.19.198.in-addr.arpa. 12": ptr("demo-commerce-1.demo_default."),
		"3.0.19.198.in-addr.arpa. 12": ptr("demo-commerce-2.demo_default."),
		"5.0.19.198.in-addr.arpa. 12": ptr("demo-commerce-2.other_default."), // taken: keeps its address
		"commerce. 28":                {},
	}
	responder := newDNSResponder(t, answers)
	src, err := newDNSSource("dns", &DNSDiscovery{Name: "commerce", Port: "8080", MemberNames: "reverse"})
	if err != nil {
		t.Fatal(err)
	}
	src.resolver = responder.resolver()
	members := func() string {
		t.Helper()
		found, ok := src.lookup(context.Background())
		if !ok {
			return "not authoritative"
		}
		var pairs []string
		for _, m := range sortMembers(found) {
			pairs = append(pairs, m.Name+"="+m.URL)
		}
		return strings.Join(pairs, " ")
	}
	const before = "198.19.0.4=http://198.19.0.4:8080 198.19.0.5=http://198.19.0.5:8080 demo-commerce-1=http://198.19.0.2:8080 demo-commerce-2=http://198.19.0.3:8080"
	if got := members(); got != before {
		t.Fatalf("members %q, want %q", got, before)
	}
	// demo-commerce-1 restarts on a new address.
	responder.set("commerce. 1", dnsAnswer{records: [][]byte{ipRecord("198.19.0.3"), ipRecord("198.19.0.9")}})
	responder.set("9.0.19.198.in-addr.arpa. 12", ptr("demo-commerce-1.demo_default."))
	const after = "demo-commerce-1=http://198.19.0.9:8080 demo-commerce-2=http://198.19.0.3:8080"
	if got := members(); got != after {
		t.Fatalf("after the restart: members %q, want %q", got, after)
	}
	responder.set("9.0.19.198.in-addr.arpa. 12", dnsAnswer{rcode: dnsServFail})
	if got := members(); got != "not authoritative" {
		t.Fatalf("a failed PTR query: members %q, want the last list kept", got)
	}
}

func TestMemberNamesIsChecked(t *testing.T) {
	for _, c := range []struct {
		cfg  DNSDiscovery
		want string
	}{
		{DNSDiscovery{Name: "commerce", Port: "80", MemberNames: "ptr"}, `dns.memberNames: "ptr" (want address or reverse)`},
		{DNSDiscovery{Name: "_http._tcp.commerce", MemberNames: "reverse"}, "dns.memberNames: reverse names A/AAAA members"},
	} {
		_, err := newDNSSource("dns", &c.cfg)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want %q", c.cfg, err, c.want)
		}
	}
	if _, err := newDNSSource("dns", &DNSDiscovery{Name: "commerce", Port: "80", MemberNames: "address"}); err != nil {
		t.Error(err)
	}
}
