package kubeapi

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var createOptions = metav1.CreateOptions{}

func namespaceObject(name string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
}

// Endpoint describes one endpoint of an EndpointSlice.
type Endpoint struct {
	Pod         string // targetRef.name; empty for none
	Hostname    string
	Address     string
	Ready       bool
	Terminating bool
}

// EndpointSlice returns an EndpointSlice of service with one named TCP port.
func EndpointSlice(name, service, portName string, port int32, endpoints ...Endpoint) *discoveryv1.EndpointSlice {
	protocol := corev1.ProtocolTCP
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{
			Name:   name,
			Labels: map[string]string{discoveryv1.LabelServiceName: service},
		},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: &portName, Port: &port, Protocol: &protocol}},
	}
	for _, e := range endpoints {
		ready, terminating := e.Ready, e.Terminating
		ep := discoveryv1.Endpoint{
			Addresses:  []string{e.Address},
			Conditions: discoveryv1.EndpointConditions{Ready: &ready, Terminating: &terminating},
		}
		if e.Hostname != "" {
			hostname := e.Hostname
			ep.Hostname = &hostname
		}
		if e.Pod != "" {
			ep.TargetRef = &corev1.ObjectReference{Kind: "Pod", Name: e.Pod}
		}
		slice.Endpoints = append(slice.Endpoints, ep)
	}
	return slice
}

// CreateService creates a ClusterIP Service with one named port.
func (s *Server) CreateService(ctx context.Context, namespace, name, portName string, port int32) error {
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.ServiceSpec{
			Ports: []corev1.ServicePort{{Name: portName, Port: port, Protocol: corev1.ProtocolTCP}},
		},
	}
	_, err := s.Client.CoreV1().Services(namespace).Create(ctx, svc, createOptions)
	return err
}
