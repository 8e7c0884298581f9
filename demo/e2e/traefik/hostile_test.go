package traefik

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/storeaffinity/storeaffinity/demo/commerce"
	"github.com/storeaffinity/storeaffinity/demo/harness/fleet"
	"github.com/storeaffinity/storeaffinity/demo/harness/stack"
)

// deviceSources configures a device-ID header and query parameter on top of the path.
var deviceSources = stack.App{Extra: map[string]any{"deviceIdHeader": "X-Device-Id", "deviceIdQuery": "deviceId"}}

// restOwners returns each store's replica, from one REST call of its POS.
func (e *env) restOwners(t *testing.T, stores []string) map[string]string {
	t.Helper()
	owner := map[string]string{}
	for _, store := range stores {
		resp, err := e.client.Ticket(e.ctx, store+"-"+fleet.POS)
		if err != nil {
			t.Fatal(err)
		}
		owner[store] = resp.Reply.Replica
	}
	return owner
}

// TestCookieFloodCannotPickReplica: Go finds no cookie at all among more than 3000, so
// without a bound Traefik would pick a replica itself. Past the bound the request gets
// 431; within it, the store's replica, and never a Set-Cookie.
func TestCookieFloodCannotPickReplica(t *testing.T) {
	e := start(t, setup{})
	stores := fleet.StoreIDs(30)
	owner := e.restOwners(t, stores)
	flood := make([]string, 3001)
	for i := range flood {
		flood[i] = fmt.Sprintf("c%d=v", i)
	}
	for _, tc := range []struct {
		name   string
		cookie string
		status int
	}{
		{"3001 cookies", strings.Join(flood, "; "), http.StatusRequestHeaderFieldsTooLarge},
		{"150 cookies", strings.Join(flood[:150], "; "), http.StatusOK},
	} {
		for _, store := range stores {
			forged := *e.client
			forged.Header = http.Header{"Cookie": {tc.cookie}}
			resp, err := forged.Ticket(e.ctx, store+"-"+fleet.CX)
			if err != nil {
				t.Fatal(err)
			}
			if resp.Status != tc.status {
				t.Fatalf("%s, store %s: status %d %q, want %d", tc.name, store, resp.Status, resp.Body, tc.status)
			}
			if tc.status == http.StatusOK && resp.Reply.Replica != owner[store] {
				t.Errorf("%s, store %s: reached %s, want %s", tc.name, store, resp.Reply.Replica, owner[store])
			}
			if cookies := resp.Header.Values("Set-Cookie"); len(cookies) > 0 {
				t.Errorf("%s, store %s: Set-Cookie %v", tc.name, store, cookies)
			}
		}
	}
}

// TestDeviceIDReadAsTheBackendReadsIt: a percent-encoded query name reaches the store's
// replica, as the backend decodes it; a header is read literally; two different device
// IDs in one request are refused.
func TestDeviceIDReadAsTheBackendReadsIt(t *testing.T) {
	e := start(t, setup{app: deviceSources})
	stores := fleet.StoreIDs(30)
	owner := e.restOwners(t, stores)
	for _, store := range stores {
		for _, query := range []string{"deviceId=" + store + "-003", "device%49d=" + store + "-003", "deviceId=" + store + "%2D003"} {
			resp, err := e.client.Get(e.ctx, "/api/catalog?"+query)
			if err != nil {
				t.Fatal(err)
			}
			if resp.Reply.Replica != owner[store] {
				t.Errorf("?%s reached %s, the store's replica is %s", query, resp.Reply.Replica, owner[store])
			}
		}
	}
	refused := []http.Header{
		{"X-Device-Id": {"00123-a%2D1"}},
		{"X-Device-Id": {"00123-001", "00456-001"}},
	}
	for _, header := range refused {
		c := *e.client
		c.Header = header
		if resp, err := c.Get(e.ctx, "/api/catalog?deviceId=00123-001"); err != nil || resp.Status != http.StatusBadRequest {
			t.Errorf("header %v: status %d (%v), want 400", header, resp.Status, err)
		}
	}
	if resp, err := e.client.Get(e.ctx, "/api/catalog?deviceId=00123-001&device%49d=00456-001"); err != nil || resp.Status != http.StatusBadRequest {
		t.Errorf("two deviceId values: status %d (%v), want 400", resp.Status, err)
	}
	// Decoded, as the backend's router decodes it, this path is under the prefix and
	// names device 00123-001: the middleware must not route it by the header instead.
	c := *e.client
	c.Header = http.Header{"X-Device-Id": {"77777-001"}}
	for _, path := range []string{"/api/appId/pos%2FdeviceId/00123-001/ticket", commerce.Prefix + "%2F00123-001/ticket"} {
		if resp, err := c.Get(e.ctx, path); err != nil || resp.Status != http.StatusBadRequest {
			t.Errorf("%s: status %d (%v), want 400", path, resp.Status, err)
		}
	}
	// A servlet backend removes ';' parameters from each segment. In a prefix the
	// middleware removes them too, and reads device 00123-001 (so a header naming
	// another device is refused); in the device segment it refuses the request.
	params := "/api/appId/pos;v=1/deviceId/00123-001/ticket"
	if resp, err := e.client.Get(e.ctx, params); err != nil || resp.Status != http.StatusOK || resp.Reply.Replica != e.restOwners(t, []string{"00123"})["00123"] {
		t.Errorf("%s: status %d (%v), replica %s; want 200 from store 00123's replica", params, resp.Status, err, resp.Reply.Replica)
	}
	refusedPaths := []struct {
		client *fleet.Client
		path   string
	}{
		{&c, params},
		{e.client, commerce.Prefix + "/00123-001;jsessionid=x/ticket"},
		{&c, commerce.Prefix + "/00123-001;jsessionid=x/ticket"},
	}
	for _, r := range refusedPaths {
		if resp, err := r.client.Get(e.ctx, r.path); err != nil || resp.Status != http.StatusBadRequest {
			t.Errorf("%s (header %v): status %d (%v), want 400", r.path, r.client.Header, resp.Status, err)
		}
	}
}

// TestStampCannotBeForged: a device ID that would add a member to the stamp is refused,
// and a client's X_Store_Affinity (which CGI-style backends read as X-Store-Affinity)
// never reaches the backend, so it reads exactly one store and one member.
func TestStampCannotBeForged(t *testing.T) {
	e := start(t, setup{})
	resp, err := e.client.Get(e.ctx, commerce.Prefix+"/00001;%20member=pos-pos-0;%20x=0-001/"+commerce.TicketPath)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != http.StatusBadRequest {
		t.Errorf("device ID with '; member=': status %d, want 400", resp.Status)
	}
	owner := e.restOwners(t, []string{"00123"})["00123"]
	forged := *e.client
	forged.Header = http.Header{"X_store_affinity": {"store=00123; member=pos-pos-0"}, "X-Store_affinity": {"member=pos-pos-1"}}
	for _, path := range []string{fleet.DevicePath("00123-001", commerce.TicketPath), "/api/catalog"} {
		resp, err := forged.Get(e.ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		want := ""
		if strings.HasPrefix(path, commerce.Prefix) {
			want = affinity("00123", member(owner))
		}
		if resp.Reply.Affinity != want {
			t.Errorf("%s: the backend reads X-Store-Affinity as %q, want %q", path, resp.Reply.Affinity, want)
		}
	}
}

// TestCutStreamsReleaseMemory opens and cuts 1,000 SSE streams through Traefik (each
// cut makes Traefik's proxy panic with http.ErrAbortHandler) and checks that Traefik's
// heap after a collection returns to where it was.
func TestCutStreamsReleaseMemory(t *testing.T) {
	e := start(t, setup{debug: true})
	cutStreams(t, e, 1000) // the same devices as below: route caches and pools are warm
	before := heapAfterGC(t, e)
	cutStreams(t, e, 1000)
	after := heapAfterGC(t, e)
	t.Logf("Traefik's heap after a GC: %.2f MiB before 1000 cut SSE streams, %.2f MiB after (%+.2f MiB)",
		mib(before), mib(after), mib(after)-mib(before))
	if after > before+512<<10 {
		t.Errorf("1000 cut streams grew Traefik's heap by %.2f MiB", mib(after)-mib(before))
	}
	e.traefik.CheckNoPanic(t)
}

// cutStreams opens n SSE streams of distinct stores, reads one event of each, and cuts it.
func cutStreams(t *testing.T, e *env, n int) {
	t.Helper()
	transport := &http.Transport{DisableKeepAlives: true}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport}
	for i := 0; i < n; i++ {
		device := fmt.Sprintf("%05d-001", 50000+i)
		req, err := http.NewRequestWithContext(e.ctx, http.MethodGet, e.traefik.WebURL+fleet.DevicePath(device, commerce.EventsPath)+"?interval=5ms", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Accept", "text/event-stream")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		reader := bufio.NewReader(resp.Body)
		line, err := reader.ReadString('\n')
		for j := 0; err == nil && !strings.HasPrefix(line, "data: ") && j < 5; j++ {
			line, err = reader.ReadString('\n')
		}
		if err != nil || !strings.HasPrefix(line, "data: ") {
			t.Fatalf("stream %s: no event (last line %q, %v)", device, line, err)
		}
		_ = resp.Body.Close() // cuts the stream
	}
}

// heapAfterGC returns Traefik's live heap (memstats.HeapAlloc) after a collection: the
// least of several readings over 4 s, since a loaded machine may leave a cut stream's
// handler (and its copy buffer) running for a while after the cut. A leak stays.
func heapAfterGC(t *testing.T, e *env) uint64 {
	t.Helper()
	var least uint64
	for i := 0; i < 8; i++ {
		time.Sleep(500 * time.Millisecond)
		ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
		resp, err := httpGet(ctx, e.traefik.API.BaseURL+"/debug/pprof/heap?gc=1")
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		ctx, cancel = context.WithTimeout(e.ctx, 10*time.Second)
		resp, err = httpGet(ctx, e.traefik.API.BaseURL+"/debug/vars")
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		var vars struct{ Memstats runtime.MemStats }
		err = json.NewDecoder(resp.Body).Decode(&vars)
		_ = resp.Body.Close()
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 || vars.Memstats.HeapAlloc < least {
			least = vars.Memstats.HeapAlloc
		}
	}
	return least
}

func httpGet(ctx context.Context, url string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	return http.DefaultClient.Do(req)
}

func mib(bytes uint64) float64 { return float64(bytes) / (1 << 20) }

// TestCachedRoutesKeepNoRequestBytes sends 2,000 requests of new devices, each with
// 128 KiB of padding after the device segment, and checks that Traefik's heap after a
// collection grew by at most 16 MiB: a route cache that kept a substring of the path
// would hold the whole request line of every device, 250 MiB here.
func TestCachedRoutesKeepNoRequestBytes(t *testing.T) {
	e := start(t, setup{debug: true})
	before := heapAfterGC(t, e)
	padding := "/" + strings.Repeat("x", 128<<10)
	transport := &http.Transport{MaxIdleConnsPerHost: 4}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport}
	for i := 0; i < 2000; i++ {
		device := fmt.Sprintf("%05d-001", 70000+i)
		req, err := http.NewRequestWithContext(e.ctx, http.MethodGet, e.traefik.WebURL+fleet.DevicePath(device, commerce.TicketPath)+padding, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if resp.Header.Get("X-Store-Affinity") == "" {
			t.Fatalf("request %d (%s) was not routed by its device: status %d", i, device, resp.StatusCode)
		}
	}
	after := heapAfterGC(t, e)
	t.Logf("Traefik's heap after a GC: %.2f MiB before 2000 padded requests of new devices, %.2f MiB after (%+.2f MiB, %.1f KiB a device)",
		mib(before), mib(after), mib(after)-mib(before), (float64(after)-float64(before))/2000/1024)
	if after > before+16<<20 {
		t.Errorf("2000 cached devices grew Traefik's heap by %.2f MiB: the cache keeps request bytes", mib(after)-mib(before))
	}
}
