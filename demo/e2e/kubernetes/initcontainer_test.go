package kubernetes

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/storeaffinity/storeaffinity/demo/harness/kubeapi"
	"github.com/storeaffinity/storeaffinity/demo/harness/stack"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

// renderedPod returns the pod spec of the chart's Traefik Deployment.
func renderedPod(t *testing.T) corev1.PodSpec {
	t.Helper()
	for _, o := range renderChart(t, filepath.Join(moduleDir(t, chartModule), "traefik")) {
		if o.GetKind() != "Deployment" {
			continue
		}
		spec, found, err := unstructured.NestedMap(o.Object, "spec", "template", "spec")
		if err != nil || !found {
			t.Fatalf("the Deployment has no pod template: %v", err)
		}
		var pod corev1.PodSpec
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(spec, &pod); err != nil {
			t.Fatal(err)
		}
		return pod
	}
	t.Fatal("the chart renders no Deployment")
	return corev1.PodSpec{}
}

// fileProxy lays out a Go module proxy in a folder, GOPROXY=file://<folder>, holding
// both plugins at version, zipped from the checkout as `make release` zips them.
func fileProxy(t *testing.T, version string) string {
	t.Helper()
	proxy := t.TempDir()
	for _, m := range stack.PluginModules {
		dir := filepath.Join(proxy, m.Path, "@v")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := stack.BuildModuleZip(filepath.Join(dir, version+".zip"), m, version, ""); err != nil {
			t.Fatal(err)
		}
		mod, err := os.ReadFile(filepath.Join(stack.RepoRoot(), m.Dir, "go.mod"))
		if err != nil {
			t.Fatal(err)
		}
		files := map[string]string{version + ".mod": string(mod), version + ".info": `{"Version":"` + version + `","Time":"2026-12-01T00:00:00Z"}`, "list": version + "\n"}
		for name, content := range files {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return proxy
}

// runInitScript runs the init container's script as the container would, with its
// environment, GOPROXY pointing at proxy, /plugins at plugins and /tmp at a folder
// of the test's.
func runInitScript(t *testing.T, c corev1.Container, proxy, plugins string, env ...string) (string, error) {
	t.Helper()
	if len(c.Command) != 3 || c.Command[0] != "sh" || c.Command[1] != "-c" {
		t.Fatalf("the init container's command is %q, want sh -c <script>", c.Command)
	}
	script := strings.ReplaceAll(c.Command[2], "/plugins", plugins)
	tmp := removableTempDir(t)
	cmd := exec.Command("sh", "-c", script)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + tmp}
	for _, e := range c.Env {
		cmd.Env = append(cmd.Env, e.Name+"="+strings.ReplaceAll(e.Value, "/tmp", tmp))
	}
	// The test's own: a file proxy, no checksum database, and a module cache that
	// the test's clean-up may remove (-modcacherw).
	cmd.Env = append(cmd.Env, "GOPROXY=file://"+proxy, "GOSUMDB=off", "GOTOOLCHAIN=local", "GOWORK=off", "GOFLAGS=-mod=mod -modcacherw")
	cmd.Env = append(cmd.Env, env...)
	cmd.Dir = tmp
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// TestHelmInitContainerInstallsThePlugins runs the rendered init container's script
// for real against a file-based module proxy: it installs both plugins, each its
// module's own tree and nothing else, and a version that does not exist fails loudly
// and installs nothing.
func TestHelmInitContainerInstallsThePlugins(t *testing.T) {
	pod := renderedPod(t)
	var init *corev1.Container
	for i := range pod.InitContainers {
		if pod.InitContainers[i].Name == "storeaffinity-plugins" {
			init = &pod.InitContainers[i]
		}
	}
	if init == nil {
		t.Fatal("no storeaffinity-plugins init container")
	}
	version := ""
	for _, e := range init.Env {
		if e.Name == "STOREAFFINITY_VERSION" {
			version = e.Value
		}
	}
	if !strings.HasPrefix(version, "v") || strings.Contains(init.Image, ":latest") || !strings.Contains(init.Image, ":") {
		t.Errorf("the init container's version %q and image %q are not pinned", version, init.Image)
	}
	proxy := fileProxy(t, version)
	plugins := removableTempDir(t)
	if out, err := runInitScript(t, *init, proxy, plugins); err != nil {
		t.Fatalf("the init script failed: %v\n%s", err, out)
	}
	entries, _ := os.ReadDir(plugins)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if strings.Join(names, ",") != "storeaffinity,storeaffinity-provider" {
		t.Errorf("the plugin volume holds %v, want the two plugins only", names)
	}
	for _, want := range []string{"storeaffinity/go.mod", "storeaffinity/.traefik.yml", "storeaffinity/plugin.go", "storeaffinity-provider/.traefik.yml", "storeaffinity-provider/provider.go"} {
		if _, err := os.Stat(filepath.Join(plugins, want)); err != nil {
			t.Errorf("the plugin volume lacks %s", want)
		}
	}
	for _, unwanted := range []string{"storeaffinity/demo", "storeaffinity/provider", "storeaffinity/.git"} {
		if _, err := os.Stat(filepath.Join(plugins, unwanted)); err == nil {
			t.Errorf("the plugin volume holds %s, outside the module's tree", unwanted)
		}
	}

	missing := removableTempDir(t)
	out, err := runInitScript(t, *init, proxy, missing, "STOREAFFINITY_VERSION=v9.9.9")
	if err == nil {
		t.Errorf("the init script installed v9.9.9, which does not exist:\n%s", out)
	}
	if left, _ := os.ReadDir(missing); len(left) != 0 {
		t.Errorf("a failed install left %d entries in the plugin volume", len(left))
	}
	t.Logf("v9.9.9: exit %v: %s", err, strings.TrimSpace(out))
}

// TestRenderedPodPassesRestrictedPodSecurity creates the chart's Traefik pod, as the
// Deployment would, in a namespace that enforces the restricted Pod Security Standard,
// on a real API server whose PodSecurity admission decides.
func TestRenderedPodPassesRestrictedPodSecurity(t *testing.T) {
	server := kubeapi.Shared(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	namespace := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "restricted-" + strings.ToLower(strconv.FormatInt(time.Now().UnixNano()%1e9, 36)),
		Labels: map[string]string{"pod-security.kubernetes.io/enforce": "restricted"}}}
	if _, err := server.Client.CoreV1().Namespaces().Create(ctx, namespace, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "traefik"}, Spec: renderedPod(t)}
	if _, err := server.Client.CoreV1().Pods(namespace.Name).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatalf("the restricted Pod Security Standard refuses the chart's pod: %v", err)
	}
	// The same pod without the init container's securityContext is refused: the
	// admission really decides.
	bare := pod.DeepCopy()
	bare.Name = "traefik-bare"
	for i := range bare.Spec.InitContainers {
		bare.Spec.InitContainers[i].SecurityContext = nil
	}
	if _, err := server.Client.CoreV1().Pods(namespace.Name).Create(ctx, bare, metav1.CreateOptions{}); err == nil {
		t.Error("the restricted standard admitted an init container without a securityContext")
	}
}

// removableTempDir is t.TempDir for a folder that gets read-only copies of the module
// cache: it is made writable again before it is removed.
func removableTempDir(t *testing.T) string {
	dir := t.TempDir()
	t.Cleanup(func() { _ = exec.Command("chmod", "-R", "u+w", dir).Run() })
	return dir
}
