package catalog

import (
	"archive/zip"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/storeaffinity/storeaffinity/demo/harness/fleet"
	"github.com/storeaffinity/storeaffinity/demo/harness/stack"
	"github.com/storeaffinity/storeaffinity/demo/tools/catalog"
	"github.com/storeaffinity/storeaffinity/hashing"
	"golang.org/x/mod/module"
	modzip "golang.org/x/mod/zip"
)

// version is the version the test publishes each module zip under.
const version = "v0.1.0"

// TestEachPluginInstallsFromItsModuleZip does with each plugin module what the Go
// module proxy, the catalog and Traefik's plugin manager do: it builds the module zip
// of the committed files, checks the catalog's rules, unpacks the zip into a GOPATH as
// Traefik does, loads both plugins from there into real Traefik, and routes a store.
func TestEachPluginInstallsFromItsModuleZip(t *testing.T) {
	work := t.TempDir()
	gopath := filepath.Join(work, "plugins-local")
	wantType := map[string]string{stack.MiddlewareModule: "middleware", stack.ProviderModule: "provider"}
	seen := map[string]bool{}
	for _, m := range stack.PluginModules {
		if seen[m.Path] {
			t.Fatalf("two plugins share the module %s: Traefik refuses a second alias for it", m.Path)
		}
		seen[m.Path] = true
		zipPath := filepath.Join(t.TempDir(), "module.zip")
		if err := stack.BuildModuleZip(zipPath, m, version, "HEAD"); err != nil {
			t.Fatal(err)
		}
		if _, err := modzip.CheckZip(module.Version{Path: m.Path, Version: version}, zipPath); err != nil {
			t.Fatalf("the Go module proxy would refuse the zip of %s: %v", m.Path, err)
		}
		files := zipListing(t, zipPath, m.Path)
		if err := stack.UnpackModuleZip(gopath, m.Path, version, zipPath); err != nil {
			t.Fatal(err)
		}
		manifest, err := catalog.CheckTree(stack.PluginDir(gopath, m.Path), m.Path)
		if err != nil {
			t.Fatal(err)
		}
		if manifest.Type != wantType[m.Path] {
			t.Errorf("%s: manifest type %q, want %q", m.Path, manifest.Type, wantType[m.Path])
		}
		if m.Path == stack.MiddlewareModule && hasPrefix(files, "provider/") {
			t.Errorf("the middleware's zip holds the provider's files; they belong to its own module")
		}
		if m.Path == stack.ProviderModule && !contains(files, "LICENSE") {
			t.Errorf("the provider's zip has no LICENSE")
		}
	}

	replicas, err := stack.StartReplicas("pos-0", "pos-1", "pos-2")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(replicas.Close)
	traefik := stack.TraefikForTest(t, stack.TraefikOptions{
		Dir:      work,
		Provider: stack.ProviderConfig(stack.App{Static: replicas.StaticServers()}),
		Plugins:  func(string) error { return nil }, // already unpacked from the zips
	})
	members := []string{"pos-pos-0", "pos-pos-1", "pos-pos-2"}
	_, _, middleware := stack.Objects("pos")
	if err := traefik.API.WaitMembers(t.Context(), middleware, members); err != nil {
		t.Fatalf("%v\n%s", err, traefik.Trouble())
	}

	picker, err := hashing.New(hashing.StrategyRendezvous, members)
	if err != nil {
		t.Fatal(err)
	}
	client := fleet.NewClient(traefik.WebURL)
	for _, store := range []string{"00123", "00456", "00789"} {
		want := picker.Members()[picker.Pick(store)]
		reached := map[string]bool{}
		for _, device := range fleet.Devices(store) {
			resp, err := client.Ticket(t.Context(), device)
			if err != nil {
				t.Fatal(err)
			}
			if resp.Status != 200 {
				t.Fatalf("device %s: status %d %s", device, resp.Status, resp.Body)
			}
			reached["pos-"+resp.Reply.Replica] = true
			if got, wantStamp := resp.Header.Get("X-Store-Affinity"), fmt.Sprintf("store=%s; member=%s", store, want); got != wantStamp {
				t.Errorf("device %s: X-Store-Affinity %q, want %q", device, got, wantStamp)
			}
		}
		if len(reached) != 1 || !reached[want] {
			t.Errorf("store %s reached %v, want only %s", store, reached, want)
		}
	}
}

// zipListing logs the files of a module zip with their sizes and returns their paths
// relative to the module root.
func zipListing(t *testing.T, zipPath, modulePath string) []string {
	t.Helper()
	r, err := zip.OpenReader(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = r.Close() }()
	var names, lines []string
	var total uint64
	prefix := modulePath + "@" + version + "/"
	for _, f := range r.File {
		name := strings.TrimPrefix(f.Name, prefix)
		names = append(names, name)
		total += f.UncompressedSize64
		lines = append(lines, fmt.Sprintf("%8d %s", f.UncompressedSize64, name))
	}
	t.Logf("%s@%s: %d files, %d bytes:\n%s", modulePath, version, len(names), total, strings.Join(lines, "\n"))
	return names
}

func hasPrefix(names []string, prefix string) bool {
	for _, n := range names {
		if strings.HasPrefix(n, prefix) {
			return true
		}
	}
	return false
}

func contains(names []string, name string) bool {
	for _, n := range names {
		if n == name {
			return true
		}
	}
	return false
}
