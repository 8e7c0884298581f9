package compose

import (
	"context"
	"net/http"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/storeaffinity/storeaffinity"
	"github.com/storeaffinity/storeaffinity-provider"
	"github.com/storeaffinity/storeaffinity/demo/stack"
	"github.com/traefik/paerser/file"
	"github.com/traefik/traefik/v3/pkg/config/label"
	"github.com/traefik/traefik/v3/pkg/config/static"
)

const (
	composePath = "docker-compose.yml"
	staticPath  = "traefik.yml"
)

var replicas = []string{"commerce-0", "commerce-1", "commerce-2"}

// replicaLabels returns the labels of the replicas, which must be identical: Traefik's
// Docker provider drops a router or middleware that containers define differently.
func replicaLabels(t *testing.T) map[string]string {
	t.Helper()
	all, err := ServiceLabels(composePath)
	if err != nil {
		t.Fatal(err)
	}
	first := all[replicas[0]]
	if len(first) == 0 {
		t.Fatalf("%s: service %s has no labels", composePath, replicas[0])
	}
	for _, name := range replicas[1:] {
		if !reflect.DeepEqual(all[name], first) {
			t.Fatalf("%s: labels of %s differ from those of %s", composePath, name, replicas[0])
		}
	}
	return first
}

func TestLabelsDecodeIntoTheMiddlewareConfig(t *testing.T) {
	conf, err := label.DecodeConfiguration(replicaLabels(t))
	if err != nil {
		t.Fatalf("Traefik's label decoder: %v", err)
	}
	middleware, ok := conf.HTTP.Middlewares["pos-affinity"]
	if !ok || middleware.Plugin == nil {
		t.Fatalf("no plugin middleware pos-affinity in the labels; middlewares: %v", Names(conf.HTTP.Middlewares))
	}
	pluginConf, ok := middleware.Plugin["storeaffinity"]
	if !ok {
		t.Fatalf("middleware pos-affinity uses plugins %v, want storeaffinity", Names(middleware.Plugin))
	}
	got := storeaffinity.CreateConfig()
	if err := stack.DecodePluginConfig(pluginConf, got); err != nil {
		t.Fatal(err)
	}
	want := storeaffinity.CreateConfig()
	want.DeviceAffinityPrefixes = []string{"/api/appId/pos/deviceId", "/api/app/pos/node"}
	want.DeviceIDHeader = "X-Device-Id"
	want.DeviceIDQuery = "deviceId"
	want.Members = []string{"pos-pos-0", "pos-pos-1", "pos-pos-2"}
	want.StickyCookie = "pos_affinity"
	want.Strategy = "rendezvous"
	want.MissingDeviceID = "reject"
	want.RebalanceGrace = "5s"
	if !reflect.DeepEqual(got, want) {
		t.Errorf("decoded middleware config\n got %+v\nwant %+v", got, want)
	}
	next := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	if _, err := storeaffinity.New(context.Background(), next, got, "pos-affinity"); err != nil {
		t.Errorf("the middleware rejects the labels' config: %v", err)
	}
}

func TestRouterLabelsUseTheProviderService(t *testing.T) {
	conf, err := label.DecodeConfiguration(replicaLabels(t))
	if err != nil {
		t.Fatal(err)
	}
	router, ok := conf.HTTP.Routers["pos"]
	if !ok {
		t.Fatalf("no router pos in the labels; routers: %v", Names(conf.HTTP.Routers))
	}
	if router.Service != "pos@plugin-storeaffinityprovider" {
		t.Errorf("router pos: service %q, want the provider's weighted service pos@plugin-storeaffinityprovider", router.Service)
	}
	if !reflect.DeepEqual(router.Middlewares, []string{"pos-affinity"}) {
		t.Errorf("router pos: middlewares %v, want [pos-affinity]", router.Middlewares)
	}
	if !reflect.DeepEqual(router.EntryPoints, []string{"web"}) {
		t.Errorf("router pos: entry points %v, want [web]", router.EntryPoints)
	}
}

// TestStaticConfigDecodesIntoTheProviderConfig reads traefik.yml with Traefik's static
// configuration type, decodes the provider's part as Traefik does, and checks that the
// members in the labels are the child services the provider emits for the replicas.
func TestStaticConfigDecodesIntoTheProviderConfig(t *testing.T) {
	var conf static.Configuration
	if err := file.Decode(staticPath, &conf); err != nil {
		t.Fatalf("%s: %v", staticPath, err)
	}
	if conf.Experimental == nil || !conf.Experimental.AbortOnPluginFailure {
		t.Errorf("%s: experimental.abortOnPluginFailure is not set", staticPath)
	}
	compose, err := os.ReadFile(composePath)
	if err != nil {
		t.Fatal(err)
	}
	// Each plugin is its own module, mounted where Traefik looks for its moduleName.
	modules := map[string]string{
		"storeaffinity":         "github.com/storeaffinity/storeaffinity",
		"storeaffinityprovider": "github.com/storeaffinity/storeaffinity-provider",
	}
	for alias, module := range modules {
		if got := conf.Experimental.LocalPlugins[alias].ModuleName; got != module {
			t.Errorf("%s: experimental.localPlugins.%s.moduleName %q, want %q", staticPath, alias, got, module)
		}
		if !strings.Contains(string(compose), "/srv/plugins-local/src/"+module+":ro") {
			t.Errorf("%s: no volume mounts the plugin at plugins-local/src/%s", composePath, module)
		}
	}
	if conf.Providers == nil || conf.Providers.Plugin["storeaffinityprovider"] == nil {
		t.Fatalf("%s: no providers.plugin.storeaffinityprovider", staticPath)
	}
	config := provider.CreateConfig()
	if err := stack.DecodePluginConfig(conf.Providers.Plugin["storeaffinityprovider"], config); err != nil {
		t.Fatal(err)
	}
	p, err := provider.New(context.Background(), config, "storeaffinityprovider")
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Init(); err != nil {
		t.Fatalf("the provider rejects %s: %v", staticPath, err)
	}
	if len(config.Apps) != 1 || config.Apps[0].Static == nil {
		t.Fatalf("%s: want one app with static discovery, got %+v", staticPath, config.Apps)
	}
	app := config.Apps[0]
	var children []string
	for i, server := range app.Static.Servers {
		name, url, _ := strings.Cut(server, "=")
		children = append(children, app.Name+"-"+name)
		if want := "http://" + replicas[i] + ":8080"; url != want {
			t.Errorf("%s: server %s at %s, want %s", staticPath, name, url, want)
		}
	}
	labels, err := label.DecodeConfiguration(replicaLabels(t))
	if err != nil {
		t.Fatal(err)
	}
	middleware := storeaffinity.CreateConfig()
	if err := stack.DecodePluginConfig(labels.HTTP.Middlewares["pos-affinity"].Plugin["storeaffinity"], middleware); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(middleware.Members, children) {
		t.Errorf("label members %v, want the provider's child services %v", middleware.Members, children)
	}
	if middleware.StickyCookie != app.Name+"_affinity" {
		t.Errorf("label stickyCookie %q, want the provider's %q", middleware.StickyCookie, app.Name+"_affinity")
	}
	if !reflect.DeepEqual(middleware.DeviceAffinityPrefixes, app.DeviceAffinityPrefixes) {
		t.Errorf("label deviceAffinityPrefixes %v differ from the provider app's %v", middleware.DeviceAffinityPrefixes, app.DeviceAffinityPrefixes)
	}
}
