package kubernetes

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/storeaffinity/storeaffinity/demo/harness/fleet"
	"github.com/storeaffinity/storeaffinity/demo/harness/kubeapi"
	"github.com/storeaffinity/storeaffinity/demo/harness/netns"
	"github.com/storeaffinity/storeaffinity/demo/harness/stack"
	authenticationv1 "k8s.io/api/authentication/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Hosts of the pos pods: pos-0..2 start on hosts 0..2, pos-3 (added, then removed)
// runs on host 3, and the rolling update brings each pod back on a host of its own.
const (
	firstHosts   = 3
	extraHost    = 3
	rolledHost0  = 4 // pos-i comes back on host rolledHost0+i
	totalHosts   = 7
	podPort      = "8080"
	ingressHost  = "pos.example.com"
	gatewayHost  = "pos-gateway.example.com"
	routeTimeout = 60 * time.Second
)

// cluster is the whole setup: the API server with everything applied, the pos pods in
// network namespaces, and Traefik run with the chart's arguments.
type cluster struct {
	server   *kubeapi.Server
	hosts    []*netns.Host
	binary   string        // demo/cmd/commerce
	pods     []pod         // the EndpointSlice as last written
	ingress  *fleet.Client // through the IngressRoute
	gateway  *fleet.Client // through the HTTPRoute
	traefik  *stack.Traefik
	tokenDir string
	metrics  string // the middleware's metrics, on the chart's metrics entry point
}

// newCluster builds the whole setup, skipping when network namespaces are unavailable.
func newCluster(t *testing.T) *cluster {
	t.Helper()
	c := &cluster{tokenDir: t.TempDir()}
	for i := 0; i < totalHosts; i++ {
		c.hosts = append(c.hosts, netns.NewHost(t, i))
	}
	binary, err := stack.BuildCommerce(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	c.binary = binary
	c.server = kubeapi.Shared(t)

	rendered := renderChart(t, filepath.Join(moduleDir(t, chartModule), "traefik"))
	c.applyAll(t, rendered)

	for i := 0; i < firstHosts; i++ {
		c.startPod(t, i, i)
		c.pods = append(c.pods, readyPod(podName(i), c.hosts[i].Addr))
	}
	writeSlice(t, c.server.Client, c.pods)

	ports := map[string]string{}
	for _, name := range []string{"traefik", "metrics", "websecure"} {
		addr, err := stack.FreeAddr()
		if err != nil {
			t.Fatal(err)
		}
		_, ports[name], _ = net.SplitHostPort(addr)
	}
	if l, err := net.Listen("tcp", "127.0.0.1:"+webPort); err != nil {
		t.Fatalf("the web entry point needs 127.0.0.1:%s (the Gateway's listener port): %v", webPort, err)
	} else {
		l.Close()
	}
	target := testTarget{Endpoint: c.server.Endpoint, CAFile: c.server.CAFile, Ports: ports,
		TraefikToken:  c.token(t, releaseNamespace, release),
		ProviderToken: c.tokenFile(t, "storeaffinity-provider")}
	args, changes, err := testArgs(traefikArgs(t, rendered), target)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Traefik %s runs the chart's %d args; the test changed only these:\n  %s",
		stack.TraefikVersion(), len(traefikArgs(t, rendered)), strings.Join(changes, "\n  "))
	c.traefik = startChartTraefik(t, args, "http://127.0.0.1:"+ports["traefik"]+"/ping")
	c.metrics = "http://127.0.0.1:" + ports["metrics"] + "/storeaffinity/metrics"
	web := "http://127.0.0.1:" + webPort
	c.ingress, c.gateway = hostClient(web, ingressHost), hostClient(web, gatewayHost)
	c.waitRouted(t, c.ingress, "IngressRoute")
	c.waitRouted(t, c.gateway, "HTTPRoute")
	return c
}

// applyAll creates the namespaces, the chart's CRDs, the Gateway API standard CRDs,
// every rendered object and every demo/k8s manifest. None may be rejected.
func (c *cluster) applyAll(t *testing.T, rendered []*unstructured.Unstructured) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	a := newApplier(t, c.server)
	chartCRDs := readObjects(t, yamlFiles(t, filepath.Join(moduleDir(t, chartModule), "traefik", "crds"), "kustomization.yaml")...)
	gatewayCRDs := readObjects(t, yamlFiles(t, filepath.Join(moduleDir(t, gatewayAPIModule), "config", "crd", "standard"))...)
	namespaces := readObjects(t, filepath.Join(k8sDir(), "namespace.yaml"))
	manifests := readObjects(t, yamlFiles(t, k8sDir(), "namespace.yaml", "values.yaml")...)
	crds := append(append([]*unstructured.Unstructured(nil), chartCRDs...), gatewayCRDs...)

	var errs []error
	errs = append(errs, a.create(ctx, namespaces)...)
	errs = append(errs, a.create(ctx, crds)...)
	if err := a.waitEstablished(ctx, crds); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, a.create(ctx, rendered)...)
	errs = append(errs, a.create(ctx, manifests)...)
	for _, err := range errs {
		t.Errorf("rejected: %v", err)
	}
	if len(errs) > 0 {
		t.FailNow()
	}
	t.Logf("applied %d namespaces, %d chart CRDs, %d Gateway API CRDs, %d rendered objects, %d demo/k8s objects",
		len(namespaces), len(chartCRDs), len(gatewayCRDs), len(rendered), len(manifests))
}

// podName is the StatefulSet's name of pod i.
func podName(i int) string { return fmt.Sprintf("pos-%d", i) }

// startPod runs pod i's Commerce process on host h and waits until it listens.
func (c *cluster) startPod(t *testing.T, i, h int) {
	t.Helper()
	host := c.hosts[h]
	host.Start(t, c.binary, "serve", podName(i)+"="+net.JoinHostPort(host.Addr, podPort))
	host.WaitPort(t, 8080, 10*time.Second)
}

// token returns a TokenRequest token of the ServiceAccount namespace/name.
func (c *cluster) token(t *testing.T, namespace, name string) string {
	t.Helper()
	expiry := int64(3600)
	request := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &expiry}}
	got, err := c.server.Client.CoreV1().ServiceAccounts(namespace).CreateToken(context.Background(), name, request, createOptions)
	if err != nil {
		t.Fatalf("TokenRequest for %s/%s: %v", namespace, name, err)
	}
	return got.Status.Token
}

// tokenFile writes a TokenRequest token of traefik/<name> to a file and returns its path.
func (c *cluster) tokenFile(t *testing.T, name string) string {
	t.Helper()
	path := filepath.Join(c.tokenDir, name+".token")
	if err := os.WriteFile(path, []byte(c.token(t, releaseNamespace, name)), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// waitRouted waits until a stateful call through client is answered by a pos replica.
func (c *cluster) waitRouted(t *testing.T, client *fleet.Client, route string) {
	t.Helper()
	start := time.Now()
	var last string
	for time.Since(start) < routeTimeout {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		resp, err := client.Ticket(ctx, "00000-001")
		cancel()
		if err == nil && resp.Status == 200 && strings.HasPrefix(resp.Reply.Replica, "pos-") {
			t.Logf("%s routed %v after Traefik's start", route, time.Since(start).Round(100*time.Millisecond))
			return
		}
		last = fmt.Sprintf("status %d, err %v, body %q", resp.Status, err, resp.Body)
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%s did not route within %v: %s", route, routeTimeout, last)
}

// startChartTraefik runs Traefik with the chart's arguments from a folder that holds
// both plugins under plugins-local, as the chart's volumes lay them out, and waits
// until pingURL answers.
func startChartTraefik(t *testing.T, args []string, pingURL string) *stack.Traefik {
	t.Helper()
	dir := t.TempDir()
	if err := stack.InstallPlugins(dir); err != nil {
		t.Fatal(err)
	}
	traefik, err := stack.StartTraefikArgs(t.Context(), dir, args, pingURL)
	if err != nil {
		t.Fatal(err)
	}
	traefik.StopAtEnd(t)
	return traefik
}
