package provider

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// searchListChild marks the re-executed test binary; its value is the parent's
// namespaces, which the child checks it no longer shares before it mounts anything.
const searchListChild = "STOREAFFINITY_E2E_SEARCHLIST_CHILD"

// searchList is the pod search list of Kubernetes namespace "pos".
var searchList = []string{"pos.svc.cluster.local", "svc.cluster.local", "cluster.local"}

// TestDNSSearchListFailureKeepsMembers checks DNS discovery through the system
// resolver with a Kubernetes-style resolv.conf (search list, ndots:5): a SERVFAIL
// keeps the last members even though every search-list expansion is NXDOMAIN, and only
// an authoritative NXDOMAIN for the name itself empties the list. The resolv.conf is
// private: the test re-runs itself under `unshare --mount --net` and bind-mounts its
// own file over /etc/resolv.conf there, with a DNS server on 127.0.0.1:53.
func TestDNSSearchListFailureKeepsMembers(t *testing.T) {
	if parent := os.Getenv(searchListChild); parent != "" {
		usePrivateResolvConf(t, parent)
		testSearchListFailures(t)
		return
	}
	runInPrivateNamespaces(t)
}

func testSearchListFailures(t *testing.T) {
	const want = "pos-pos-0.pos.example=http://pos-0.pos.example:8080,pos-pos-1.pos.example=http://pos-1.pos.example:8081"
	tests := []struct {
		name    string
		srvName string // as configured
		failing string // the name that answers SERVFAIL
		// oldLookupNotFound is what an unrooted lookup without StrictErrors (the old
		// provider) reports during the SERVFAIL: true means it emptied the list.
		oldLookupNotFound bool
	}{
		{"search list tried before the name", "_http._tcp.pos.example", "_http._tcp.pos.example.", false},
		{"name tried before the search list", "_http._tcp.pos.commerce.svc.cluster.local", "_http._tcp.pos.commerce.svc.cluster.local.", true},
		{"rooted name in the configuration", "_http._tcp.pos.commerce.svc.cluster.local.", "_http._tcp.pos.commerce.svc.cluster.local.", false},
		{"target address fails", "_http._tcp.pos.example", "pos-1.pos.example.", false},
	}
	for _, test := range tests {
		for _, runtime := range runtimes {
			t.Run(test.name+"/"+runtime, func(t *testing.T) {
				srvName := dns.Fqdn(test.srvName)
				server := startDNS(t, "127.0.0.1:53")
				setRecords(t, server, srvName, srvName+" 1 IN SRV 0 1 8080 pos-0.pos.example.", srvName+" 1 IN SRV 0 1 8081 pos-1.pos.example.")
				setRecords(t, server, "pos-0.pos.example.", "pos-0.pos.example. 1 IN A 127.0.0.10")
				setRecords(t, server, "pos-1.pos.example.", "pos-1.pos.example. 1 IN A 127.0.0.11")
				dnsOptions := map[string]any{"name": test.srvName, "interval": "200ms"} // no resolver: the system one
				r := start(t, newProvider(t, runtime, map[string]any{"apps": []any{map[string]any{"name": "pos", "dns": dnsOptions}}}))
				r.waitMembers(t, "pos", want, 10*time.Second)

				server.SetServfailFor(test.failing)
				polls := server.Queries(srvName)
				r.expectQuiet(t, 2*time.Second) // no configuration at all, so no empty one
				if n := server.Queries(srvName) - polls; n < 3 {
					t.Fatalf("%d lookups of %s during the SERVFAIL; the provider stopped polling", n, srvName)
				}
				for _, suffix := range searchList {
					if expansion := strings.TrimSuffix(srvName, ".") + "." + suffix + "."; server.Queries(expansion) != 0 {
						t.Fatalf("the provider looked up %s: names must be looked up rooted", expansion)
					}
				}
				if test.failing == srvName {
					oldResolver := &net.Resolver{PreferGo: true}
					_, _, err := oldResolver.LookupSRV(context.Background(), "", "", test.srvName)
					var dnsErr *net.DNSError
					if got := errors.As(err, &dnsErr) && dnsErr.IsNotFound; got != test.oldLookupNotFound {
						t.Fatalf("unrooted non-strict lookup of %s: %v (not found: %v, want %v); the private resolv.conf is not in effect", test.srvName, err, got, test.oldLookupNotFound)
					}
					t.Logf("unrooted non-strict lookup during the SERVFAIL: %v", err)
				} else {
					t.Logf("%d lookups of %s (without a resolver, Traefik resolves SRV targets itself)", server.Queries(test.failing), test.failing)
				}

				server.SetServfailFor("")
				setRecords(t, server, srvName) // authoritative NXDOMAIN: now the list empties
				r.waitMembers(t, "pos", "", 5*time.Second)
			})
		}
	}
}

// runInPrivateNamespaces re-runs this test in new mount and network namespaces and
// checks that the host's /etc/resolv.conf is the same afterwards.
func runInPrivateNamespaces(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a private /etc/resolv.conf and serve DNS on port 53")
	}
	for _, tool := range []string{"unshare", "ip", "mount", "umount"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s (util-linux, iproute2): %v", tool, err)
		}
	}
	if out, err := exec.Command("unshare", "--mount", "--net", "true").CombinedOutput(); err != nil {
		t.Skipf("cannot create mount and network namespaces: %v: %s", err, out)
	}
	before := hostResolvConf(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "unshare", "--mount", "--net", "--propagation", "private", "--",
		os.Args[0], "-test.run=^"+regexp.QuoteMeta(t.Name())+"$", "-test.v", "-test.count=1", "-test.timeout=4m")
	cmd.Env = append(os.Environ(), searchListChild+"="+namespaces(t))
	out, err := cmd.CombinedOutput()
	t.Logf("child in private mount and network namespaces:\n%s", out)
	if after := hostResolvConf(t); after != before {
		t.Errorf("the host's /etc/resolv.conf changed:\nbefore: %s\nafter:  %s", before, after)
	}
	if err != nil {
		t.Fatalf("child: %v", err)
	}
	if !bytes.Contains(out, []byte("--- PASS: "+t.Name())) {
		t.Fatalf("child did not pass %s", t.Name())
	}
}

// usePrivateResolvConf brings up loopback and bind-mounts a Kubernetes-style
// resolv.conf over /etc/resolv.conf, after checking that both namespaces are new.
func usePrivateResolvConf(t *testing.T, parent string) {
	own := namespaces(t)
	for _, ns := range strings.Fields(own) {
		if strings.Contains(parent, ns) {
			t.Fatalf("refusing to mount over /etc/resolv.conf: %s is the parent's (%s)", ns, parent)
		}
	}
	run(t, "mount", "--make-rprivate", "/")
	run(t, "ip", "link", "set", "lo", "up")
	content := "nameserver 127.0.0.1\nsearch " + strings.Join(searchList, " ") + "\noptions ndots:5 attempts:1 timeout:1\n"
	file := t.TempDir() + "/resolv.conf"
	if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, "mount", "--bind", file, "/etc/resolv.conf")
	t.Cleanup(func() { _ = exec.Command("umount", "/etc/resolv.conf").Run() })
	if got, err := os.ReadFile("/etc/resolv.conf"); err != nil || string(got) != content {
		t.Fatalf("/etc/resolv.conf after the bind mount: %q, %v", got, err)
	}
}

// namespaces returns this process's mount and network namespaces, as "mnt:[…] net:[…]".
func namespaces(t *testing.T) string {
	var ids []string
	for _, ns := range []string{"mnt", "net"} {
		id, err := os.Readlink("/proc/self/ns/" + ns)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return strings.Join(ids, " ")
}

// hostResolvConf describes /etc/resolv.conf: its content, mode, times, inode, and how
// many mounts sit on it in this mount namespace (not its access time, which reads change).
func hostResolvConf(t *testing.T) string {
	content, err := os.ReadFile("/etc/resolv.conf")
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat("/etc/resolv.conf")
	if err != nil {
		t.Fatal(err)
	}
	mountinfo, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	mounts := 0
	for _, line := range strings.Split(string(mountinfo), "\n") {
		if fields := strings.Fields(line); len(fields) > 4 && fields[4] == "/etc/resolv.conf" {
			mounts++
		}
	}
	description := fmt.Sprintf("%q mode=%v modified=%v mounts=%d", content, info.Mode(), info.ModTime(), mounts)
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		description += fmt.Sprintf(" dev=%d inode=%d changed=%d.%09d", st.Dev, st.Ino, st.Ctim.Sec, st.Ctim.Nsec)
	}
	return description
}

func run(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
}
