package provider

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/storeaffinity/storeaffinity/e2e/kubeapi"
	"github.com/storeaffinity/storeaffinity/e2e/pluginsrc"
)

// traefikBinary returns the cached Traefik binary, built on first use.
func traefikBinary(t *testing.T) string {
	t.Helper()
	cache := os.Getenv("STOREAFFINITY_CACHE")
	if cache == "" {
		cache = filepath.Join(pluginsrc.RepoRoot(), ".cache")
	}
	cmd := exec.Command(filepath.Join(pluginsrc.RepoRoot(), "scripts", "install-traefik.sh"), cache)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("install-traefik.sh: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// startTraefik runs Traefik with both plugins loaded from the working tree and the
// provider configured by providerYAML (indented under the provider's key), with the
// given providersThrottleDuration ("" for Traefik's default, 2s). It returns the API's
// base URL.
func startTraefik(t *testing.T, throttle, providerYAML string) string {
	t.Helper()
	dir := t.TempDir()
	if _, err := pluginsrc.Install(filepath.Join(dir, "plugins-local")); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	apiAddress := l.Addr().String()
	l.Close()
	if throttle != "" {
		throttle = "  providersThrottleDuration: " + throttle
	}
	static := `entryPoints:
  traefik: {address: "` + apiAddress + `"}
api: {insecure: true}
log: {level: ERROR}
providers:
` + throttle + `
  plugin:
    storeaffinityprovider:
` + providerYAML + `
experimental:
  abortOnPluginFailure: true
  localPlugins:
    storeaffinity: {moduleName: ` + pluginsrc.Module + `}
    storeaffinityprovider: {moduleName: ` + pluginsrc.Module + `/provider}
`
	if err := os.WriteFile(filepath.Join(dir, "traefik.yml"), []byte(static), 0o644); err != nil {
		t.Fatal(err)
	}
	logFile, err := os.Create(filepath.Join(dir, "traefik.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(traefikBinary(t), "--configFile="+filepath.Join(dir, "traefik.yml"))
	cmd.Dir = dir // Traefik reads ./plugins-local
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		logFile.Close()
		if t.Failed() {
			data, _ := os.ReadFile(logFile.Name())
			t.Logf("traefik log:\n%s", data)
		}
	})
	return "http://" + apiAddress
}

// traefikMembers reads the members of the app's affinity middleware from Traefik's
// API, with the children of its weighted service; "" when not (yet) present.
func traefikMembers(api, app string) string {
	client := &http.Client{Timeout: 2 * time.Second}
	var middleware struct {
		Plugin map[string]struct {
			Members []string `json:"members"`
		} `json:"plugin"`
		Status string `json:"status"`
	}
	resp, err := client.Get(api + "/api/http/middlewares/" + app + "-affinity@plugin-storeaffinityprovider")
	if err != nil {
		return ""
	}
	err = json.NewDecoder(resp.Body).Decode(&middleware)
	resp.Body.Close()
	if err != nil || middleware.Status != "enabled" {
		return ""
	}
	var service struct {
		Weighted struct {
			Services []struct {
				Name string `json:"name"`
			} `json:"services"`
		} `json:"weighted"`
	}
	resp, err = client.Get(api + "/api/http/services/" + app + "@plugin-storeaffinityprovider")
	if err != nil {
		return ""
	}
	err = json.NewDecoder(resp.Body).Decode(&service)
	resp.Body.Close()
	if err != nil {
		return ""
	}
	var children []string
	for _, s := range service.Weighted.Services {
		children = append(children, s.Name)
	}
	sort.Strings(children)
	members := middleware.Plugin["storeaffinity"].Members
	return fmt.Sprintf("members=%s children=%s", strings.Join(members, ","), strings.Join(children, ","))
}

// waitTraefik polls Traefik's API until the app's members are want.
func waitTraefik(t *testing.T, api, app, want string, timeout time.Duration) time.Time {
	t.Helper()
	deadline := time.Now().Add(timeout)
	last := ""
	for time.Now().Before(deadline) {
		if last = traefikMembers(api, app); last == want {
			return time.Now()
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("Traefik's %s after %v: %q, want %q", app, timeout, last, want)
	return time.Time{}
}

// TestTraefikFollowsEndpointSlices runs the provider inside Traefik v3.6.12 against the
// real API server and reports the time from an EndpointSlice update to Traefik's API
// showing the new members, with Traefik's default providersThrottleDuration (2s) and
// with 100ms.
func TestTraefikFollowsEndpointSlices(t *testing.T) {
	for _, throttle := range []string{"", "100ms"} {
		name := "throttle-" + throttle
		if throttle == "" {
			name = "default-throttle"
		}
		t.Run(name, func(t *testing.T) {
			f := newKubeFixture(t)
			f.apply(t, kubeapi.EndpointSlice("pos-a", "pos", "http", 18080,
				endpoint{Pod: "pos-0", Address: "10.0.0.1", Ready: true},
				endpoint{Pod: "pos-1", Address: "10.0.0.2", Ready: true}))
			api := startTraefik(t, throttle, `      apps:
        - name: pos
          kubernetes:
            namespace: `+f.namespace+`
            service: pos
            port: http
            endpoint: `+f.server.Endpoint+`
            tokenFile: `+f.tokenFile+`
            certAuthFilePath: `+f.server.CAFile+`
          deviceAffinityPrefixes: [/api/appId/pos/deviceId]`)
			both := "members=pos-pos-0,pos-pos-1 children=pos-pos-0,pos-pos-1"
			one := "members=pos-pos-0 children=pos-pos-0"
			waitTraefik(t, api, "pos", both, 60*time.Second)
			var latencies []time.Duration
			for i := 0; i < 6; i++ {
				want, ready := one, false
				if i%2 == 1 {
					want, ready = both, true
				}
				sent := f.apply(t, kubeapi.EndpointSlice("pos-a", "pos", "http", 18080,
					endpoint{Pod: "pos-0", Address: "10.0.0.1", Ready: true},
					endpoint{Pod: "pos-1", Address: "10.0.0.2", Ready: ready}))
				latencies = append(latencies, waitTraefik(t, api, "pos", want, 10*time.Second).Sub(sent))
			}
			sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
			slowest := latencies[len(latencies)-1]
			t.Logf("EndpointSlice update to Traefik's API showing the members (%s), %d changes: min %v, median %v, max %v",
				name, len(latencies), latencies[0], latencies[len(latencies)/2], slowest)
			if slowest > 3*time.Second {
				t.Errorf("slowest change reached Traefik after %v, want under 3s", slowest)
			}
		})
	}
}
