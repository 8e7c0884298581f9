package cli

import (
	"bytes"
	"context"
	"github.com/storeaffinity/storeaffinity/internal/golden"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/storeaffinity/storeaffinity/demo/harness/kubeapi"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// members runs the binary's members subcommand against the namespace and returns its
// output with the namespace name replaced by NAMESPACE, so that it can be compared.
func members(t *testing.T, kubeconfig, namespace string, args ...string) string {
	t.Helper()
	args = append([]string{"members", "--kubeconfig=" + kubeconfig}, args...)
	cmd := exec.Command(cliBinary(t), args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG=/nonexistent") // the flag must win
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("storeaffinity %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return strings.ReplaceAll(stdout.String(), namespace, "NAMESPACE")
}

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	golden.Check(t, filepath.Join("testdata", name+".golden"), []byte(got))
}

// TestMembersFollowsLiveEndpointSlices lists members through a kubeconfig, then marks
// the store's member as terminating: the store moves to the next member in its
// failover order, and the other stores stay where they were.
func TestMembersFollowsLiveEndpointSlices(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	server := kube(t)
	namespace, err := server.Namespace(ctx, "cli-members")
	if err != nil {
		t.Fatal(err)
	}
	if err := server.CreateService(ctx, namespace, "commerce-pos", "http", 8080); err != nil {
		t.Fatal(err)
	}
	kubeconfig, err := server.Kubeconfig(t.TempDir(), namespace)
	if err != nil {
		t.Fatal(err)
	}
	slices := server.Client.DiscoveryV1().EndpointSlices(namespace)
	a := kubeapi.EndpointSlice("commerce-pos-a", "commerce-pos", "http", 8080,
		kubeapi.Endpoint{Pod: "pos-0", Address: "10.0.0.5", Ready: true},
		kubeapi.Endpoint{Pod: "pos-1", Address: "10.0.0.6", Ready: true},
	)
	b := kubeapi.EndpointSlice("commerce-pos-b", "commerce-pos", "http", 8080,
		kubeapi.Endpoint{Pod: "pos-2", Address: "10.0.0.7", Ready: true},
		kubeapi.Endpoint{Pod: "pos-3", Address: "10.0.0.8", Ready: false},
	)
	if _, err := slices.Create(ctx, a, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := slices.Create(ctx, b, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	args := []string{"--service=commerce-pos", "--app=pos", "--port=http", "--devices=00123-001", "00123", "00456", "00789"}
	before := members(t, kubeconfig, namespace, args...)
	checkGolden(t, "members-before", before)

	// pos-1, the member of store 00123, starts terminating.
	a.Endpoints[1].Conditions.Ready = new(bool)
	terminating := true
	a.Endpoints[1].Conditions.Terminating = &terminating
	if _, err := slices.Update(ctx, a, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	after := members(t, kubeconfig, namespace, args...)
	checkGolden(t, "members-after", after)

	was, now := storeRoutes(before), storeRoutes(after)
	if was["00123"][0] != "pos-1" {
		t.Fatalf("store 00123 was on %s, want pos-1 (its member under rendezvous over pos-pos-0..2)", was["00123"][0])
	}
	for store, order := range was {
		want := order[0]
		if want == "pos-1" {
			want = order[1] // the next member in the store's failover order
		}
		if now[store][0] != want {
			t.Errorf("store %s: on %s after pos-1 left, want %s (failover order %v)", store, now[store][0], want, order)
		}
	}
}

// storeRoutes reads the store rows of the route table: store -> failover order, whose
// first entry is the store's member.
func storeRoutes(out string) map[string][]string {
	routes := map[string][]string{}
	for _, line := range strings.Split(out, "\n") {
		fields := strings.Fields(line)
		if len(fields) >= 5 && fields[0] == "-" {
			routes[fields[1]] = strings.Split(strings.Join(fields[4:], ""), ">")
		}
	}
	return routes
}
