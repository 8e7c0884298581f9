package kubernetes

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/yaml"
)

// release and releaseNamespace are the chart release under test, as in
// `helm install traefik traefik/traefik -n traefik -f demo/k8s/values.yaml`.
const (
	release          = "traefik"
	releaseNamespace = "traefik"
)

// renderChart renders the official chart with demo/k8s/values.yaml and returns its
// objects (CRDs excluded: helm template leaves them out without --include-crds).
func renderChart(t *testing.T, chartDir string) []*unstructured.Unstructured {
	t.Helper()
	cmd := exec.Command(helmBinary(t), "template", release, chartDir,
		"--namespace", releaseNamespace, "--kube-version", kubeVersion,
		"-f", filepath.Join(k8sDir(), "values.yaml"))
	cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+t.TempDir(), "HELM_CONFIG_HOME="+t.TempDir(), "HELM_DATA_HOME="+t.TempDir())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helm template: %v\n%s", err, stderr.String())
	}
	objects, err := decodeObjects(out)
	if err != nil {
		t.Fatalf("decode helm's output: %v", err)
	}
	return objects
}

// readObjects decodes every object of the YAML files.
func readObjects(t *testing.T, paths ...string) []*unstructured.Unstructured {
	t.Helper()
	var all []*unstructured.Unstructured
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		objects, err := decodeObjects(data)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		all = append(all, objects...)
	}
	return all
}

// decodeObjects splits a multi-document YAML stream into objects, skipping empty ones.
func decodeObjects(data []byte) ([]*unstructured.Unstructured, error) {
	decoder := yaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var objects []*unstructured.Unstructured
	for {
		var content map[string]any
		if err := decoder.Decode(&content); err != nil {
			if errors.Is(err, io.EOF) {
				return objects, nil
			}
			return nil, err
		}
		if len(content) == 0 {
			continue
		}
		objects = append(objects, &unstructured.Unstructured{Object: content})
	}
}

// traefikArgs returns the container args of the chart's Traefik Deployment.
func traefikArgs(t *testing.T, objects []*unstructured.Unstructured) []string {
	t.Helper()
	for _, o := range objects {
		if o.GetKind() != "Deployment" {
			continue
		}
		containers, _, _ := unstructured.NestedSlice(o.Object, "spec", "template", "spec", "containers")
		for _, c := range containers {
			container, _ := c.(map[string]any)
			if container["name"] != "traefik" {
				continue
			}
			args, _, err := unstructured.NestedStringSlice(container, "args")
			if err != nil || len(args) == 0 {
				t.Fatalf("the traefik container has no args: %v", err)
			}
			return args
		}
	}
	t.Fatal("the chart rendered no Deployment with a traefik container")
	return nil
}
