package compose

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/storeaffinity/storeaffinity-provider"
	"github.com/storeaffinity/storeaffinity/demo/commerce"
	"github.com/storeaffinity/storeaffinity/demo/harness/dockerd"
	"github.com/storeaffinity/storeaffinity/demo/harness/fleet"
	"github.com/storeaffinity/storeaffinity/demo/harness/stack"
)

// projectName names the test's compose project, and so its containers:
// satest-commerce-1, satest-commerce-2, ...
const projectName = "satest"

// app is the provider's app in demo/compose/traefik.yml.
const app = "pos"

// project is the compose project of demo/compose, up on a test engine.
type project struct {
	t      *testing.T
	engine *dockerd.Engine
	dir    string
	env    []string
	api    *stack.API
	client *fleet.Client
}

// startProject runs `docker compose up -d --scale commerce=<replicas>` in
// demo/compose, with the locally built Traefik image and free loopback ports;
// t.Cleanup takes the project down.
func startProject(t *testing.T, engine *dockerd.Engine, traefikImage string, replicas int) *project {
	web, api := freePort(t), freePort(t)
	p := &project{t: t, engine: engine, dir: filepath.Join(stack.RepoRoot(), "demo", "compose"),
		env:    []string{"TRAEFIK_IMAGE=" + traefikImage, "WEB_PORT=" + web, "API_PORT=" + api},
		api:    stack.NewAPI("http://127.0.0.1:" + api),
		client: fleet.NewClient("http://127.0.0.1:" + web)}
	t.Cleanup(func() {
		if t.Failed() {
			out, _ := p.run("logs", "--no-color", "--tail", "40", "traefik")
			t.Logf("Traefik's log:\n%s", out)
		}
		if _, err := p.run("down", "--volumes", "--remove-orphans", "--timeout", "1"); err != nil {
			t.Error(err)
		}
	})
	p.compose("up", "-d", "--scale", fmt.Sprintf("commerce=%d", replicas))
	return p
}

func (p *project) run(args ...string) (string, error) {
	return p.engine.Run(p.dir, p.env, append([]string{"compose", "-p", projectName}, args...)...)
}

// compose runs a docker compose command and fails the test if it fails.
func (p *project) compose(args ...string) {
	p.t.Helper()
	if _, err := p.run(args...); err != nil {
		p.t.Fatal(err)
	}
}

// docker runs a docker command and fails the test if it fails.
func (p *project) docker(args ...string) string {
	p.t.Helper()
	out, err := p.engine.Docker(args...)
	if err != nil {
		p.t.Fatal(err)
	}
	return out
}

// replica returns the name of Commerce container n (1-based), which is also its
// member name: the first label of its reverse DNS name.
func replica(n int) string { return fmt.Sprintf("%s-commerce-%d", projectName, n) }

func replicas(n ...int) []string {
	var names []string
	for _, i := range n {
		names = append(names, replica(i))
	}
	return names
}

// waitMembers waits until the provider's middleware has exactly the named containers
// as members, and returns when it saw them.
func (p *project) waitMembers(ctx context.Context, containers []string) time.Time {
	p.t.Helper()
	var want []string
	for _, c := range containers {
		want = append(want, provider.MemberService(app, c))
	}
	if err := p.api.WaitMembers(ctx, provider.AffinityMiddleware(app)+"@plugin-storeaffinityprovider", want); err != nil {
		p.t.Fatal(err)
	}
	return time.Now()
}

// containerNames maps each running container's hostname (its short ID, which is
// the name a demo replica reports) to its name.
func (p *project) containerNames() map[string]string {
	names := map[string]string{}
	out := p.docker("ps", "--filter", "label=com.docker.compose.project="+projectName, "--format", "{{.ID}} {{.Names}}")
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if id, name, ok := strings.Cut(line, " "); ok {
			names[id] = name
		}
	}
	return names
}

// reports returns the session reports of the running Commerce replicas, fetched
// from their addresses on the project's network.
func (p *project) reports(ctx context.Context) []commerce.Report {
	p.t.Helper()
	var reports []commerce.Report
	for _, name := range p.containerNames() {
		if !strings.Contains(name, "-commerce-") {
			continue
		}
		ip := strings.TrimSpace(p.docker("inspect", "--format", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", name))
		report, err := commerce.FetchReport(ctx, http.DefaultClient, "http://"+ip+":8080")
		if err != nil {
			p.t.Fatalf("report of %s: %v", name, err)
		}
		reports = append(reports, report)
	}
	return reports
}

// placement returns the container of each store: the one that holds the WebSockets
// of all its devices and answered their latest REST calls, made after since. It
// returns an error naming a store that is not in one place.
func (p *project) placement(f *fleet.Fleet, load *fleet.Load, since time.Time) (map[string]string, error) {
	names := p.containerNames()
	owner, apart := f.Together()
	if len(apart) > 0 {
		return nil, fmt.Errorf("%d stores have devices apart or unconnected, such as %s: %v", len(apart), apart[0], f.Placement()[apart[0]])
	}
	out := map[string]string{}
	for store, replica := range owner {
		for _, device := range fleet.Devices(store) {
			call, ok := load.Last(device)
			if !ok || !call.OK || call.At.Before(since) || call.Replica != replica {
				return nil, fmt.Errorf("store %s: WebSockets on %s, latest REST call of %s %+v", store, names[replica], device, call)
			}
		}
		if names[replica] == "" {
			return nil, fmt.Errorf("store %s: on %s, which is no running container", store, replica)
		}
		out[store] = names[replica]
	}
	return out, nil
}

// waitPlacement polls placement until every store is in one place and until is past.
func (p *project) waitPlacement(ctx context.Context, f *fleet.Fleet, load *fleet.Load, until time.Time) map[string]string {
	p.t.Helper()
	var placed map[string]string
	err := stack.Poll(ctx, time.Until(until)+30*time.Second, func(context.Context) error {
		var err error
		if placed, err = p.placement(f, load, until); err != nil {
			return err
		}
		if time.Now().Before(until) {
			return fmt.Errorf("waiting until %s", until.Format(time.StampMilli))
		}
		return nil
	})
	if err != nil {
		p.t.Fatal(err)
	}
	return placed
}

// countBy counts the stores per container, as "name:count" sorted by name.
func countBy(placed map[string]string) string {
	counts := map[string]int{}
	for _, c := range placed {
		counts[c]++
	}
	var parts []string
	for c, n := range counts {
		parts = append(parts, fmt.Sprintf("%s:%d", c, n))
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

func freePort(t *testing.T) string {
	t.Helper()
	addr, err := stack.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	return addr[strings.LastIndex(addr, ":")+1:]
}
