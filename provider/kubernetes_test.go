package provider

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestKubernetesMembersAreReadyPodsOnTheirSlicePort(t *testing.T) {
	yes, no := true, false
	port := func(name string, number int) endpointPort {
		return endpointPort{Name: name, Port: &number, Protocol: "TCP"}
	}
	tests := []struct {
		name   string
		port   string
		slices []endpointSlice
		want   string
	}{
		{
			name: "ready, not ready and terminating",
			port: "http",
			slices: []endpointSlice{{
				Metadata: objectMeta{Name: "a"},
				Ports:    []endpointPort{port("metrics", 9090), port("http", 8080)},
				Endpoints: []endpoint{
					{Addresses: []string{"10.0.0.1"}, Conditions: endpointConditions{Ready: &yes}, TargetRef: &objectReference{Name: "pos-0"}},
					{Addresses: []string{"10.0.0.2"}, Conditions: endpointConditions{Ready: &no}, TargetRef: &objectReference{Name: "pos-1"}},
					{Addresses: []string{"10.0.0.3"}, Conditions: endpointConditions{Ready: &yes, Terminating: &yes}, TargetRef: &objectReference{Name: "pos-2"}},
					{Addresses: []string{"10.0.0.4"}, TargetRef: &objectReference{Name: "pos-3"}}, // unknown readiness counts as ready
				},
			}},
			want: "pos-0=http://10.0.0.1:8080 pos-3=http://10.0.0.4:8080",
		},
		{
			name: "each slice its own port",
			port: "http",
			slices: []endpointSlice{
				{Metadata: objectMeta{Name: "b"}, Ports: []endpointPort{port("http", 8081)}, Endpoints: []endpoint{{Addresses: []string{"fd00::2"}, Hostname: "host-b"}}},
				{Metadata: objectMeta{Name: "a"}, Ports: []endpointPort{port("http", 8080)}, Endpoints: []endpoint{{Addresses: []string{"10.0.0.1"}}}},
				{Metadata: objectMeta{Name: "c"}, Ports: []endpointPort{port("grpc", 9000)}, Endpoints: []endpoint{{Addresses: []string{"10.0.0.9"}}}},
			},
			want: "10.0.0.1=http://10.0.0.1:8080 host-b=http://[fd00::2]:8081",
		},
		{
			name:   "no port configured uses the only port",
			slices: []endpointSlice{{Metadata: objectMeta{Name: "a"}, Ports: []endpointPort{port("", 8080)}, Endpoints: []endpoint{{Addresses: []string{"10.0.0.1"}}}}},
			want:   "10.0.0.1=http://10.0.0.1:8080",
		},
		{
			name:   "a port number not in the slice is used as is",
			port:   "8443",
			slices: []endpointSlice{{Metadata: objectMeta{Name: "a"}, Ports: []endpointPort{port("http", 8080)}, Endpoints: []endpoint{{Addresses: []string{"10.0.0.1"}}}}},
			want:   "10.0.0.1=http://10.0.0.1:8443",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &kubernetesSource{port: tt.port, scheme: "http"}
			slices := make(map[string]*endpointSlice)
			for i := range tt.slices {
				slices[tt.slices[i].Metadata.Name] = &tt.slices[i]
			}
			var got []string
			for _, m := range sortMembers(s.members(slices)) {
				got = append(got, m.Name+"="+m.URL)
			}
			if strings.Join(got, " ") != tt.want {
				t.Errorf("members = %q, want %q", strings.Join(got, " "), tt.want)
			}
		})
	}
}

// fakeAPIServer serves EndpointSlice lists and scripted watch streams.
type fakeAPIServer struct {
	mu       sync.Mutex
	lists    []string // list responses, the last one repeats
	watches  []string // watch responses (newline-separated events); "410" answers 410 Gone; "silent" never answers
	requests []string // "list" or "watch@<resourceVersion>"
	tokens   []string
}

func (f *fakeAPIServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tokens = append(f.tokens, r.Header.Get("Authorization"))
	if r.URL.Query().Get("labelSelector") != "kubernetes.io/service-name=pos" || r.URL.Path != "/apis/discovery.k8s.io/v1/namespaces/shop/endpointslices" {
		http.Error(w, "unexpected request "+r.URL.String(), http.StatusBadRequest)
		return
	}
	if r.URL.Query().Get("watch") == "" {
		f.requests = append(f.requests, "list")
		body := f.lists[0]
		if len(f.lists) > 1 {
			f.lists = f.lists[1:]
		}
		fmt.Fprint(w, body)
		return
	}
	f.requests = append(f.requests, "watch@"+r.URL.Query().Get("resourceVersion"))
	if len(f.watches) == 0 {
		http.Error(w, "no more watches", http.StatusServiceUnavailable)
		return
	}
	body := f.watches[0]
	f.watches = f.watches[1:]
	if body == "silent" { // a connection that died without a reset
		f.mu.Unlock()
		<-r.Context().Done()
		f.mu.Lock()
		return
	}
	if body == "410" {
		http.Error(w, `{"kind":"Status","code":410,"reason":"Expired"}`, http.StatusGone)
		return
	}
	fmt.Fprint(w, body)
}

func sliceJSON(resourceVersion string, addresses ...string) string {
	var endpoints []string
	for _, a := range addresses {
		endpoints = append(endpoints, `{"addresses":["`+a+`"],"conditions":{"ready":true}}`)
	}
	return `{"metadata":{"name":"pos-a","resourceVersion":"` + resourceVersion + `"},"ports":[{"name":"http","port":8080,"protocol":"TCP"}],"endpoints":[` + strings.Join(endpoints, ",") + `]}`
}

func event(eventType, object string) string {
	return `{"type":"` + eventType + `","object":` + object + "}\n"
}

func TestKubernetesWatchResumesAndRelistsOnGone(t *testing.T) {
	fake := &fakeAPIServer{
		lists: []string{
			`{"metadata":{"resourceVersion":"10"},"items":[` + sliceJSON("9", "10.0.0.1") + `]}`,
			`{"metadata":{"resourceVersion":"30"},"items":[` + sliceJSON("29", "10.0.0.3") + `]}`,
		},
		watches: []string{
			event("ADDED", sliceJSON("11", "10.0.0.1", "10.0.0.2")) + event("BOOKMARK", `{"metadata":{"resourceVersion":"12"}}`),
			event("ERROR", `{"kind":"Status","code":410,"reason":"Expired"}`),
			event("DELETED", sliceJSON("31")),
		},
	}
	server := httptest.NewServer(fake)
	defer server.Close()
	src, err := newKubernetesSource("kubernetes", &KubernetesDiscovery{Namespace: "shop", Service: "pos", Port: "http", Endpoint: server.URL, Token: "secret"})
	if err != nil {
		t.Fatal(err)
	}
	src.minBackoff, src.maxBackoff = 10*time.Millisecond, 20*time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	reports, report := memberReports()
	go src.run(ctx, report)
	for _, want := range []string{"10.0.0.1", "10.0.0.1,10.0.0.2", "10.0.0.3", ""} {
		expectReport(t, reports, want, 5*time.Second)
	}
	cancel()
	fake.mu.Lock()
	defer fake.mu.Unlock()
	wantRequests := "list watch@10 watch@12 list watch@30"
	if got := strings.Join(fake.requests, " "); !strings.HasPrefix(got, wantRequests) {
		t.Errorf("requests = %q, want them to start with %q", got, wantRequests)
	}
	for _, token := range fake.tokens {
		if token != "Bearer secret" {
			t.Errorf("Authorization = %q", token)
		}
	}
}

func TestKubernetesErrorsReportNothing(t *testing.T) {
	fake := &fakeAPIServer{lists: []string{`not json`}}
	server := httptest.NewServer(fake)
	defer server.Close()
	src, err := newKubernetesSource("kubernetes", &KubernetesDiscovery{Namespace: "shop", Service: "pos", Endpoint: server.URL, Token: "t"})
	if err != nil {
		t.Fatal(err)
	}
	src.minBackoff, src.maxBackoff = 10*time.Millisecond, 20*time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	reported := false
	src.run(ctx, func([]member) { reported = true })
	if reported {
		t.Error("a failing list reported a member list")
	}
	fake.mu.Lock()
	defer fake.mu.Unlock()
	if n := len(fake.requests); n < 3 || n > 40 {
		t.Errorf("%d list attempts in 300ms with 10-20ms backoff", n)
	}
}

func TestKubernetesSilentWatchIsRestartedFromItsResourceVersion(t *testing.T) {
	fake := &fakeAPIServer{
		lists:   []string{`{"metadata":{"resourceVersion":"10"},"items":[` + sliceJSON("9", "10.0.0.1") + `]}`},
		watches: []string{"silent", event("MODIFIED", sliceJSON("11", "10.0.0.2"))},
	}
	server := httptest.NewServer(fake)
	defer server.Close()
	src, err := newKubernetesSource("kubernetes", &KubernetesDiscovery{Namespace: "shop", Service: "pos", Endpoint: server.URL, Token: "t"})
	if err != nil {
		t.Fatal(err)
	}
	src.client.watchIdle = 100 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	reports, report := memberReports()
	go src.run(ctx, report)
	for _, want := range []string{"10.0.0.1", "10.0.0.2"} {
		expectReport(t, reports, want, 5*time.Second)
	}
	cancel()
	fake.mu.Lock()
	defer fake.mu.Unlock()
	if got := strings.Join(fake.requests, " "); !strings.HasPrefix(got, "list watch@10 watch@10") {
		t.Errorf("requests = %q, want a list, then the silent watch resumed from 10", got)
	}
}
