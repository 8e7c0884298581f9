package kubernetes

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

const (
	// watchDelay is what the provider's EndpointSlice watch adds to Traefik's
	// providersThrottleDuration before a terminating pod leaves the members
	// (measured: 2.0–2.1 s in all).
	watchDelay = 500 * time.Millisecond
	// drainMargin is what the preStop keeps beyond the moment the last moved store's
	// sessions end: the clients' reconnects and a short request still on its way.
	drainMargin = 2 * time.Second
	// replicaShutdown is the longest the demo replica takes to close on SIGTERM.
	replicaShutdown = 2 * time.Second
)

// podDrain returns the preStop sleep and the terminationGracePeriodSeconds of the pos
// StatefulSet in demo/k8s/pos.yaml (0 when absent).
func podDrain(t *testing.T) (preStop, gracePeriod time.Duration) {
	t.Helper()
	for _, o := range readObjects(t, filepath.Join(k8sDir(), "pos.yaml")) {
		if o.GetKind() != "StatefulSet" {
			continue
		}
		var set appsv1.StatefulSet
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &set); err != nil {
			t.Fatalf("pos.yaml: %v", err)
		}
		pod := set.Spec.Template.Spec
		if pod.TerminationGracePeriodSeconds != nil {
			gracePeriod = time.Duration(*pod.TerminationGracePeriodSeconds) * time.Second
		}
		for _, c := range pod.Containers {
			if c.Lifecycle != nil && c.Lifecycle.PreStop != nil && c.Lifecycle.PreStop.Sleep != nil {
				preStop = time.Duration(c.Lifecycle.PreStop.Sleep.Seconds) * time.Second
			}
		}
		return preStop, gracePeriod
	}
	t.Fatal("demo/k8s/pos.yaml has no StatefulSet")
	return 0, 0
}

// valuesArg returns the value of a Traefik flag among the additionalArguments of
// demo/k8s/values.yaml, or fallback when it is not there.
func valuesArg(t *testing.T, flag string, fallback time.Duration) time.Duration {
	t.Helper()
	values := readObjects(t, filepath.Join(k8sDir(), "values.yaml"))[0]
	args, _, _ := unstructured.NestedStringSlice(values.Object, "additionalArguments")
	for _, arg := range args {
		if value, ok := strings.CutPrefix(arg, flag+"="); ok {
			d, err := time.ParseDuration(value)
			if err != nil {
				t.Fatalf("values.yaml: %s: %v", flag, err)
			}
			return d
		}
	}
	return fallback
}

// TestPreStopOutlastsTheStoresMove: a deleted pos pod keeps serving (its preStop
// sleep) until the provider has seen its endpoint terminate, Traefik has applied the
// change and its stores' sessions have ended (rebalanceGrace + rebalanceSpread), and
// Kubernetes does not kill it before it has closed (terminationGracePeriodSeconds,
// which counts from the deletion and includes the preStop).
func TestPreStopOutlastsTheStoresMove(t *testing.T) {
	const app = "--providers.plugin.storeaffinityprovider.apps[0]."
	grace := valuesArg(t, app+"rebalanceGrace", 5*time.Second)
	spread := valuesArg(t, app+"rebalanceSpread", 0)
	throttle := valuesArg(t, "--providers.providersThrottleDuration", 2*time.Second)
	preStop, gracePeriod := podDrain(t)
	if need := grace + spread + throttle + watchDelay + drainMargin; preStop < need {
		t.Errorf("pos.yaml: preStop sleeps %v, want at least %v: rebalanceGrace %v + rebalanceSpread %v + providersThrottleDuration %v + the watch %v + margin %v",
			preStop, need, grace, spread, throttle, watchDelay, drainMargin)
	}
	if need := preStop + replicaShutdown; gracePeriod < need {
		t.Errorf("pos.yaml: terminationGracePeriodSeconds %v, want at least the preStop %v + the replica's shutdown %v", gracePeriod, preStop, replicaShutdown)
	}
}
