package compose

import (
	"context"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/storeaffinity/storeaffinity-provider"
	"github.com/storeaffinity/storeaffinity/demo/harness/stack"
	"github.com/traefik/paerser/file"
	"github.com/traefik/traefik/v3/pkg/config/label"
	"github.com/traefik/traefik/v3/pkg/config/static"
)

const (
	composePath = "docker-compose.yml"
	staticPath  = "traefik.yml"
)

// service is the one scalable Commerce service, which the provider looks up by name.
const service = "commerce"

// pluginSuffix qualifies the objects that the provider plugin emits.
const pluginSuffix = "@plugin-storeaffinityprovider"

// serviceLabels returns the labels of the Commerce service.
func serviceLabels(t *testing.T) map[string]string {
	t.Helper()
	all, err := ServiceLabels(composePath)
	if err != nil {
		t.Fatal(err)
	}
	if len(all[service]) == 0 {
		t.Fatalf("%s: service %s has no labels (services: %v)", composePath, service, Names(all))
	}
	return all[service]
}

// TestRouterLabelsUseTheProviderObjects: the labels' router goes through the
// provider's middleware, whose member list is live, to its weighted service.
func TestRouterLabelsUseTheProviderObjects(t *testing.T) {
	conf, err := label.DecodeConfiguration(serviceLabels(t))
	if err != nil {
		t.Fatalf("Traefik's label decoder: %v", err)
	}
	router, ok := conf.HTTP.Routers["pos"]
	if !ok {
		t.Fatalf("no router pos in the labels; routers: %v", Names(conf.HTTP.Routers))
	}
	if want := provider.WeightedService("pos") + pluginSuffix; router.Service != want {
		t.Errorf("router pos: service %q, want the provider's weighted service %s", router.Service, want)
	}
	if want := []string{provider.AffinityMiddleware("pos") + pluginSuffix}; !reflect.DeepEqual(router.Middlewares, want) {
		t.Errorf("router pos: middlewares %v, want %v", router.Middlewares, want)
	}
	if !reflect.DeepEqual(router.EntryPoints, []string{"web"}) {
		t.Errorf("router pos: entry points %v, want [web]", router.EntryPoints)
	}
}

// TestStaticConfigDecodesIntoTheProviderConfig reads traefik.yml with Traefik's static
// configuration type, decodes the provider's part as Traefik does, and checks that the
// provider accepts it and discovers the Commerce service's replicas by their names.
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
	if len(config.Apps) != 1 || config.Apps[0].DNS == nil {
		t.Fatalf("%s: want one app with DNS discovery, got %+v", staticPath, config.Apps)
	}
	dns := config.Apps[0].DNS
	if dns.Name != service || dns.MemberNames != "reverse" {
		t.Errorf("%s: dns name %q, memberNames %q; want the service %q, named by reverse lookup (a container name survives a restart, its address does not)", staticPath, dns.Name, dns.MemberNames, service)
	}
}
