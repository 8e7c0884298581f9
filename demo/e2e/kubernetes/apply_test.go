package kubernetes

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/storeaffinity/storeaffinity/demo/harness/kubeapi"
	"github.com/storeaffinity/storeaffinity/demo/harness/stack"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
)

// applier creates arbitrary objects on the API server, as `kubectl create -f` does.
type applier struct {
	client dynamic.Interface
	mapper *restmapper.DeferredDiscoveryRESTMapper
}

func newApplier(t *testing.T, server *kubeapi.Server) *applier {
	t.Helper()
	config := &rest.Config{Host: server.Endpoint, BearerToken: server.Token, TLSClientConfig: rest.TLSClientConfig{CAFile: server.CAFile}}
	client, err := dynamic.NewForConfig(config)
	if err != nil {
		t.Fatal(err)
	}
	disco, err := discovery.NewDiscoveryClientForConfig(config)
	if err != nil {
		t.Fatal(err)
	}
	return &applier{client: client, mapper: restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(disco))}
}

// create creates every object, in order, and returns one error per rejected object.
// A kind unknown to the server (a CRD just created) is retried for up to 30 s.
func (a *applier) create(ctx context.Context, objects []*unstructured.Unstructured) []error {
	var errs []error
	for _, o := range objects {
		if err := a.createOne(ctx, o); err != nil {
			errs = append(errs, fmt.Errorf("%s %s/%s: %w", o.GetKind(), o.GetNamespace(), o.GetName(), err))
		}
	}
	return errs
}

func (a *applier) createOne(ctx context.Context, o *unstructured.Unstructured) error {
	gvk := o.GroupVersionKind()
	deadline := time.Now().Add(30 * time.Second)
	for {
		mapping, err := a.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			if time.Now().After(deadline) {
				return err
			}
			a.mapper.Reset()
			time.Sleep(200 * time.Millisecond)
			continue
		}
		var resource dynamic.ResourceInterface = a.client.Resource(mapping.Resource)
		if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
			namespace := o.GetNamespace()
			if namespace == "" {
				namespace = "default"
			}
			resource = a.client.Resource(mapping.Resource).Namespace(namespace)
		}
		_, err = resource.Create(ctx, o, metav1.CreateOptions{FieldValidation: "Strict"})
		return err
	}
}

// waitEstablished waits until every CRD among objects is Established.
func (a *applier) waitEstablished(ctx context.Context, objects []*unstructured.Unstructured) error {
	crds := a.client.Resource(crdResource)
	for _, o := range objects {
		if o.GetKind() != "CustomResourceDefinition" {
			continue
		}
		err := stack.Poll(ctx, 30*time.Second, func(ctx context.Context) error {
			got, err := crds.Get(ctx, o.GetName(), metav1.GetOptions{})
			if err == nil && !established(got) {
				err = errors.New("not established")
			}
			return err
		})
		if err != nil {
			return fmt.Errorf("CRD %s: %w", o.GetName(), err)
		}
	}
	a.mapper.Reset()
	return nil
}

func established(crd *unstructured.Unstructured) bool {
	conditions, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
	for _, c := range conditions {
		condition, _ := c.(map[string]any)
		if condition["type"] == "Established" && condition["status"] == "True" {
			return true
		}
	}
	return false
}

var crdResource = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

var createOptions = metav1.CreateOptions{}
