package provider

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/storeaffinity/storeaffinity/demo/harness/kubeapi"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// kubeFixture is a namespace with a Service "pos" and a provider watching it.
type kubeFixture struct {
	server    *kubeapi.Server
	namespace string
	tokenFile string
	ctx       context.Context
}

func newKubeFixture(t *testing.T) *kubeFixture {
	t.Helper()
	server := kube(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	namespace, err := server.Namespace(ctx, t.Name())
	if err != nil {
		t.Fatal(err)
	}
	if err := server.CreateService(ctx, namespace, "pos", "http", 8080); err != nil {
		t.Fatal(err)
	}
	f := &kubeFixture{server: server, namespace: namespace, ctx: ctx, tokenFile: filepath.Join(t.TempDir(), "token")}
	f.writeToken(t, server.Token)
	return f
}

func (f *kubeFixture) writeToken(t *testing.T, token string) {
	t.Helper()
	if err := os.WriteFile(f.tokenFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

func (f *kubeFixture) config() map[string]any {
	return map[string]any{"apps": []any{map[string]any{
		"name": "pos",
		"kubernetes": map[string]any{
			"namespace": f.namespace, "service": "pos", "port": "http",
			"endpoint": f.server.Endpoint, "tokenFile": f.tokenFile, "certAuthFilePath": f.server.CAFile,
		},
	}}}
}

// apply creates or updates slice and returns when the write was sent, after the
// read of the current object.
func (f *kubeFixture) apply(t *testing.T, slice *discoveryv1.EndpointSlice) time.Time {
	t.Helper()
	slices := f.server.Client.DiscoveryV1().EndpointSlices(f.namespace)
	current, err := slices.Get(f.ctx, slice.Name, metav1.GetOptions{})
	var sent time.Time
	if err == nil {
		slice.ResourceVersion = current.ResourceVersion
		sent = time.Now()
		_, err = slices.Update(f.ctx, slice, metav1.UpdateOptions{})
	} else {
		sent = time.Now()
		_, err = slices.Create(f.ctx, slice, metav1.CreateOptions{})
	}
	if err != nil {
		t.Fatal(err)
	}
	return sent
}

func (f *kubeFixture) delete(t *testing.T, name string) {
	t.Helper()
	if err := f.server.Client.DiscoveryV1().EndpointSlices(f.namespace).Delete(f.ctx, name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
}

type endpoint = kubeapi.Endpoint

// posA is the EndpointSlice pos-a of Service pos: pods pos-0, pos-1, … at 10.0.0.1,
// 10.0.0.2, … on port 18080, ready as given.
func posA(ready ...bool) *discoveryv1.EndpointSlice {
	endpoints := make([]endpoint, len(ready))
	for i, r := range ready {
		endpoints[i] = endpoint{Pod: fmt.Sprintf("pos-%d", i), Address: fmt.Sprintf("10.0.0.%d", i+1), Ready: r}
	}
	return kubeapi.EndpointSlice("pos-a", "pos", "http", 18080, endpoints...)
}

func TestKubernetesMembersFollowEndpointSlices(t *testing.T) {
	for _, runtime := range runtimes {
		t.Run(runtime, func(t *testing.T) {
			f := newKubeFixture(t)
			// One slice per replica group, each with its own port, as slices of one Service may have.
			f.apply(t, posA(true, false))
			f.apply(t, kubeapi.EndpointSlice("pos-b", "pos", "http", 18081,
				endpoint{Pod: "pos-2", Address: "10.0.0.3", Ready: true}))
			f.apply(t, kubeapi.EndpointSlice("other", "other", "http", 9999,
				endpoint{Pod: "other-0", Address: "10.0.0.4", Ready: true}))
			r := start(t, newProvider(t, runtime, f.config()))
			r.waitMembers(t, "pos", "pos-pos-0=http://10.0.0.1:18080,pos-pos-2=http://10.0.0.3:18081", 10*time.Second)

			steps := []struct {
				name  string
				apply *discoveryv1.EndpointSlice
				drop  string
				want  string
			}{
				{
					name:  "not ready becomes ready",
					apply: posA(true, true),
					want:  "pos-pos-0=http://10.0.0.1:18080,pos-pos-1=http://10.0.0.2:18080,pos-pos-2=http://10.0.0.3:18081",
				},
				{
					name: "terminating leaves",
					apply: kubeapi.EndpointSlice("pos-a", "pos", "http", 18080,
						endpoint{Pod: "pos-0", Address: "10.0.0.1", Ready: false, Terminating: true},
						endpoint{Pod: "pos-1", Address: "10.0.0.2", Ready: true}),
					want: "pos-pos-1=http://10.0.0.2:18080,pos-pos-2=http://10.0.0.3:18081",
				},
				{
					name: "ready becomes not ready",
					apply: kubeapi.EndpointSlice("pos-b", "pos", "http", 18081,
						endpoint{Pod: "pos-2", Address: "10.0.0.3", Ready: false}),
					want: "pos-pos-1=http://10.0.0.2:18080",
				},
				{
					name: "named by hostname, else address",
					apply: kubeapi.EndpointSlice("pos-c", "pos", "http", 18082,
						endpoint{Hostname: "pos-host", Address: "10.0.0.5", Ready: true},
						endpoint{Address: "10.0.0.6", Ready: true}),
					want: "pos-10.0.0.6=http://10.0.0.6:18082,pos-pos-1=http://10.0.0.2:18080,pos-pos-host=http://10.0.0.5:18082",
				},
				{
					name: "deleted slice leaves",
					drop: "pos-c",
					want: "pos-pos-1=http://10.0.0.2:18080",
				},
				{
					name: "last member leaves",
					drop: "pos-a",
					want: "",
				},
			}
			for _, step := range steps {
				if step.apply != nil {
					f.apply(t, step.apply)
				} else {
					f.delete(t, step.drop)
				}
				r.waitMembers(t, "pos", step.want, 10*time.Second)
			}
			// Changes to another Service's slices emit nothing.
			f.apply(t, kubeapi.EndpointSlice("other", "other", "http", 9999,
				endpoint{Pod: "other-1", Address: "10.0.0.7", Ready: true}))
			r.expectQuiet(t, time.Second)
		})
	}
}

func TestKubernetesKeepsMembersWhileAPIServerIsDown(t *testing.T) {
	for _, runtime := range runtimes {
		t.Run(runtime, func(t *testing.T) {
			f := newKubeFixture(t)
			f.apply(t, posA(true))
			r := start(t, newProvider(t, runtime, f.config()))
			r.waitMembers(t, "pos", "pos-pos-0=http://10.0.0.1:18080", 10*time.Second)

			// A change in another namespace moves etcd's revision past the one the
			// provider watches from; compaction then makes its resourceVersion too old.
			if _, err := f.server.Namespace(f.ctx, "other"); err != nil {
				t.Fatal(err)
			}
			f.server.StopAPIServer()
			r.expectQuiet(t, 2*time.Second)
			if err := f.server.CompactEtcd(); err != nil {
				t.Fatal(err)
			}
			if err := f.server.StartAPIServer(); err != nil {
				t.Fatal(err)
			}
			f.apply(t, posA(true, true))
			r.waitMembers(t, "pos", "pos-pos-0=http://10.0.0.1:18080,pos-pos-1=http://10.0.0.2:18080", 30*time.Second)
		})
	}
}

func TestKubernetesTokenFileIsReRead(t *testing.T) {
	for _, runtime := range runtimes {
		t.Run(runtime, func(t *testing.T) {
			f := newKubeFixture(t)
			f.apply(t, posA(true))
			f.writeToken(t, "expired-token")
			r := start(t, newProvider(t, runtime, f.config()))
			r.expectQuiet(t, time.Second) // 401: nothing to emit yet
			f.writeToken(t, f.server.Token)
			r.waitMembers(t, "pos", "pos-pos-0=http://10.0.0.1:18080", 20*time.Second)
		})
	}
}

// TestKubernetesChangeLatency reports the time from an EndpointSlice update (the
// update request being sent) to the provider emitting the new configuration.
func TestKubernetesChangeLatency(t *testing.T) {
	for _, runtime := range runtimes {
		t.Run(runtime, func(t *testing.T) {
			f := newKubeFixture(t)
			f.apply(t, posA(true, true))
			r := start(t, newProvider(t, runtime, f.config()))
			both := "pos-pos-0=http://10.0.0.1:18080,pos-pos-1=http://10.0.0.2:18080"
			r.waitMembers(t, "pos", both, 10*time.Second)
			var fromSent, fromReturned []time.Duration
			for i := 0; i < 10; i++ {
				want, ready := "pos-pos-0=http://10.0.0.1:18080", false
				if i%2 == 1 {
					want, ready = both, true
				}
				sent := f.apply(t, posA(true, ready))
				returned := time.Now()
				e := r.waitMembers(t, "pos", want, 10*time.Second)
				fromSent = append(fromSent, e.received.Sub(sent))
				fromReturned = append(fromReturned, e.received.Sub(returned))
			}
			summary := func(d []time.Duration) string {
				sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
				return fmt.Sprintf("min %v, median %v, max %v", d[0], d[len(d)/2], d[len(d)-1])
			}
			t.Logf("EndpointSlice update to emitted configuration, %s, %d changes: from sending the update: %s; from the update call returning (negative: emitted before it returned): %s",
				runtime, len(fromSent), summary(fromSent), summary(fromReturned))
			latencies := fromSent
			if latencies[len(latencies)-1] > 3*time.Second {
				t.Errorf("slowest change took %v, want under 3s", latencies[len(latencies)-1])
			}
		})
	}
}
