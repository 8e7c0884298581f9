package kubernetes

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// pod is one endpoint of the pos Service as the EndpointSlice controller writes it
// for a StatefulSet pod.
type pod struct {
	Name        string // pos-0 ...
	Address     string
	Ready       bool
	Serving     bool
	Terminating bool
}

// readyPod is a running, ready pod.
func readyPod(name, address string) pod {
	return pod{Name: name, Address: address, Ready: true, Serving: true}
}

// terminatingPod is a pod being deleted that still serves: not ready, as the
// controller reports it until the process exits.
func terminatingPod(name, address string) pod {
	return pod{Name: name, Address: address, Serving: true, Terminating: true}
}

// sliceName is the pos Service's one EndpointSlice, named as the controller names them.
const sliceName = "pos-7xq2k"

// endpointSlice returns the EndpointSlice of the pos Service of namespace with pods.
func endpointSlice(namespace string, pods []pod) *discoveryv1.EndpointSlice {
	portName, port, protocol := "http", int32(8080), corev1.ProtocolTCP
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Name: sliceName, Namespace: namespace, Labels: map[string]string{
			discoveryv1.LabelServiceName: "pos",
			discoveryv1.LabelManagedBy:   "endpointslice-controller.k8s.io",
		}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: &portName, Port: &port, Protocol: &protocol}},
	}
	for _, p := range pods {
		ready, serving, terminating, hostname := p.Ready, p.Serving, p.Terminating, p.Name
		slice.Endpoints = append(slice.Endpoints, discoveryv1.Endpoint{
			Addresses:  []string{p.Address},
			Hostname:   &hostname,
			Conditions: discoveryv1.EndpointConditions{Ready: &ready, Serving: &serving, Terminating: &terminating},
			TargetRef:  &corev1.ObjectReference{Kind: "Pod", Namespace: namespace, Name: p.Name},
		})
	}
	return slice
}

// writeSlice creates or replaces the commerce namespace's EndpointSlice and returns
// when the write was sent.
func writeSlice(t *testing.T, client *kubernetes.Clientset, pods []pod) time.Time {
	return writeSliceIn(t, client, "commerce", pods)
}

// writeSliceIn is writeSlice in another namespace.
func writeSliceIn(t *testing.T, client *kubernetes.Clientset, namespace string, pods []pod) time.Time {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	slices := client.DiscoveryV1().EndpointSlices(namespace)
	slice := endpointSlice(namespace, pods)
	current, err := slices.Get(ctx, sliceName, metav1.GetOptions{})
	sent := time.Now()
	if err == nil {
		slice.ResourceVersion = current.ResourceVersion
		sent = time.Now()
		_, err = slices.Update(ctx, slice, metav1.UpdateOptions{})
	} else {
		_, err = slices.Create(ctx, slice, metav1.CreateOptions{})
	}
	if err != nil {
		t.Fatalf("write EndpointSlice: %v", err)
	}
	return sent
}
