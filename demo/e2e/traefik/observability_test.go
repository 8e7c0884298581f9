package traefik

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/storeaffinity/storeaffinity/demo/harness/fleet"
	"github.com/storeaffinity/storeaffinity/demo/harness/stack"
	"github.com/storeaffinity/storeaffinity/hashing"
)

// TestTraefikMetricsAndAccessLogShowMembers runs Traefik with its Prometheus metrics
// and a JSON access log that keeps X-Store-Affinity, as docs/operations.md shows, sends
// stateful requests of 30 stores, and reads both: the requests per child service in
// /metrics are the stores' placement, and every access-log line of a stateful request
// names its store and member.
func TestTraefikMetricsAndAccessLogShowMembers(t *testing.T) {
	replicas, err := stack.StartReplicas("pos-0", "pos-1", "pos-2")
	if err != nil {
		t.Fatal(err)
	}
	defer replicas.Close()
	dir := t.TempDir()
	accessLog := filepath.Join(dir, "access.json")
	traefik := stack.TraefikForTest(t, stack.TraefikOptions{
		Dir:      dir,
		Provider: stack.ProviderConfig(stack.App{Name: "pos", Static: replicas.StaticServers()}),
		Plugins:  stack.InstallPlugins,
		Static: map[string]any{
			"metrics": map[string]any{"prometheus": map[string]any{"entryPoint": "traefik", "addServicesLabels": true}},
			"accessLog": map[string]any{"filePath": accessLog, "format": "json", "bufferingSize": 0,
				"fields": map[string]any{"headers": map[string]any{"defaultMode": "drop", "names": map[string]any{"X-Store-Affinity": "keep"}}}},
		},
	})
	_, _, middleware := stack.Objects("pos")
	members := []string{"pos-pos-0", "pos-pos-1", "pos-pos-2"}
	if err := traefik.API.WaitMembers(t.Context(), middleware, members); err != nil {
		t.Fatal(err)
	}
	picker, _ := hashing.New(hashing.StrategyRendezvous, members)
	want := map[string]int{}
	client := fleet.NewClient(traefik.WebURL)
	for _, store := range fleet.StoreIDs(30) {
		for _, device := range fleet.Devices(store) {
			resp, err := client.Ticket(t.Context(), device)
			if err != nil || resp.Status != http.StatusOK {
				t.Fatalf("device %s: %v %+v", device, err, resp)
			}
			want[picker.Members()[picker.Pick(store)]]++
		}
	}

	// Prometheus: requests per child service.
	resp, err := http.Get(traefik.API.BaseURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	requests := regexp.MustCompile(`(?m)^traefik_service_requests_total\{[^}]*service="(pos-pos-[0-9])@plugin-storeaffinityprovider"[^}]*\} ([0-9.e+]+)$`)
	got := map[string]int{}
	for _, m := range requests.FindAllStringSubmatch(string(body), -1) {
		n, _ := strconv.ParseFloat(m[2], 64)
		got[m[1]] += int(n)
	}
	for _, member := range members {
		if got[member] != want[member] {
			t.Errorf("traefik_service_requests_total of %s = %d, want %d (its stores' requests)", member, got[member], want[member])
		}
	}

	// The access log: each stateful request's line names its store and member.
	stamps := map[string]string{} // device -> stamp
	deadline := time.Now().Add(5 * time.Second)
	for len(stamps) < 60 && time.Now().Before(deadline) {
		stamps = readStamps(t, accessLog)
		time.Sleep(100 * time.Millisecond)
	}
	for _, store := range fleet.StoreIDs(30) {
		wantStamp := fmt.Sprintf("store=%s; member=%s", store, picker.Members()[picker.Pick(store)])
		for _, device := range fleet.Devices(store) {
			if stamps[device] != wantStamp {
				t.Errorf("access log of %s: X-Store-Affinity %q, want %q", device, stamps[device], wantStamp)
			}
		}
	}
}

// readStamps reads the JSON access log: per device in the request path, the
// X-Store-Affinity the response carried.
func readStamps(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	stamps := map[string]string{}
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		var line map[string]any
		if json.Unmarshal(scanner.Bytes(), &line) != nil {
			continue
		}
		path, _ := line["RequestPath"].(string)
		parts := strings.Split(path, "/")
		if len(parts) < 6 {
			continue
		}
		stamp, _ := line["downstream_X-Store-Affinity"].(string)
		stamps[parts[5]] = stamp
	}
	return stamps
}
