package chaos

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/storeaffinity/storeaffinity/demo/commerce"
	"github.com/storeaffinity/storeaffinity/demo/harness/stack"
)

// cluster is three replica processes on fixed loopback ports behind two Traefik
// processes (A and B) with the same provider configuration.
type cluster struct {
	t       *testing.T
	ctx     context.Context
	binary  string
	dir     string
	addrs   map[string]string // replica -> host:port, fixed for the whole test
	procs   map[string]*stack.ReplicaProcess
	archive []commerce.Report // reports of stopped processes, their live sessions ended at the stop
	proxies [2]*stack.Traefik
}

// startCluster builds the commerce command, starts every replica as a process and two
// Traefiks, and waits until both proxies list every replica as a member.
func startCluster(ctx context.Context, t *testing.T) *cluster {
	t.Helper()
	c := &cluster{t: t, ctx: ctx, dir: t.TempDir(), addrs: map[string]string{}, procs: map[string]*stack.ReplicaProcess{}}
	var err error
	if c.binary, err = stack.BuildCommerce(c.dir); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, p := range c.procs {
			p.Stop(syscall.SIGKILL)
		}
	})
	var servers []string
	for _, name := range replicaNames {
		if c.addrs[name], err = stack.FreeAddr(); err != nil {
			t.Fatal(err)
		}
		servers = append(servers, name+"=http://"+c.addrs[name])
		c.start(name)
	}
	app := stack.App{
		Name:           app,
		Static:         servers,
		RebalanceGrace: rebalanceGrace.String(),
		Extra: map[string]any{"healthCheck": map[string]any{
			// A stopped replica refuses at once; the timeout only spares live replicas that a
			// loaded machine slows down, which would otherwise trip panicThreshold.
			"path": "/healthz", "interval": healthInterval.String(), "timeout": "1s",
			"fails": healthFails, "passes": 2,
		}},
	}
	for i := range c.proxies {
		c.proxies[i] = startProxy(ctx, t, app)
	}
	return c
}

// startProxy starts a Traefik with the provider configured for a and waits for its
// objects and its full member list. It fails the test if Traefik's log shows a panic.
func startProxy(ctx context.Context, t *testing.T, a stack.App) *stack.Traefik {
	t.Helper()
	traefik := stack.TraefikForTest(t, stack.TraefikOptions{Provider: stack.ProviderConfig(a)})
	router, service, middleware := stack.Objects(app)
	for kind, name := range map[string]string{stack.Routers: router, stack.Services: service, stack.Middlewares: middleware} {
		if err := traefik.API.WaitEnabled(ctx, kind, name); err != nil {
			t.Fatalf("%v\n%s", err, traefik.Trouble())
		}
	}
	if err := traefik.API.WaitMembers(ctx, middleware, members(replicaNames)); err != nil {
		t.Fatalf("%v\n%s", err, traefik.Trouble())
	}
	return traefik
}

// start runs the named replica on its port and returns when the process was started;
// it returns once the replica answers /healthz.
func (c *cluster) start(name string) time.Time {
	c.t.Helper()
	began := time.Now()
	p, err := stack.StartReplicaProcess(c.ctx, c.binary, name, c.addrs[name], filepath.Join(c.dir, name+".log"))
	if err != nil {
		c.t.Fatal(err)
	}
	c.procs[name] = p
	return began
}

// stop keeps the replica's report, then sends sig to its process and waits for it to
// exit. It returns when the signal was sent.
func (c *cluster) stop(name string, sig syscall.Signal) time.Time {
	c.t.Helper()
	p := c.procs[name]
	ctx, cancel := context.WithTimeout(c.ctx, 5*time.Second)
	report, err := commerce.FetchReport(ctx, http.DefaultClient, p.URL())
	cancel()
	if err != nil {
		c.t.Fatal(err)
	}
	at := time.Now()
	p.Stop(sig)
	delete(c.procs, name)
	for i, s := range report.Sessions {
		if s.Live() {
			report.Sessions[i].End = at
		}
	}
	c.archive = append(c.archive, report)
	return at
}

// reports returns the reports of every process that ran: those kept at each stop and
// those of the running replicas.
func (c *cluster) reports() []commerce.Report {
	c.t.Helper()
	out := append([]commerce.Report(nil), c.archive...)
	for _, name := range replicaNames {
		p, ok := c.procs[name]
		if !ok {
			continue
		}
		ctx, cancel := context.WithTimeout(c.ctx, 10*time.Second)
		report, err := commerce.FetchReport(ctx, http.DefaultClient, p.URL())
		cancel()
		if err != nil {
			c.t.Fatal(fmt.Errorf("report of %s: %w", name, err))
		}
		out = append(out, report)
	}
	return out
}
