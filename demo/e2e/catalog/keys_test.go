package catalog

import (
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/storeaffinity/storeaffinity"
	provider "github.com/storeaffinity/storeaffinity-provider"
)

// jsonKeys returns the JSON keys of a struct type's fields.
func jsonKeys(t reflect.Type) map[string]bool {
	keys := map[string]bool{}
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			keys[name] = true
		}
	}
	return keys
}

// The provider's own keys of an app: discovery, health, routing. Every other key of an
// app is a middleware option passed through.
var providerOwnKeys = map[string]bool{"name": true, "static": true, "dns": true, "kubernetes": true, "healthCheck": true, "router": true}

// The middleware keys the provider fills itself: the app's members, cookie and name, and
// serveMetrics on the middleware of its metrics router.
var providerFilledKeys = map[string]bool{"members": true, "stickyCookie": true, "app": true, "serveMetrics": true}

// TestProviderPassesEveryMiddlewareKey compares the middleware's configuration keys
// with the provider's app keys, by reflection: the two plugins are separate modules
// that import nothing from each other, so the provider holds one copy of the keys, and
// a key added on one side only fails here.
func TestProviderPassesEveryMiddlewareKey(t *testing.T) {
	middleware := jsonKeys(reflect.TypeOf(storeaffinity.Config{}))
	app := jsonKeys(reflect.TypeOf(provider.App{}))
	var missing, extra []string
	for key := range middleware {
		if !providerFilledKeys[key] && !app[key] {
			missing = append(missing, key)
		}
	}
	for key := range app {
		if !providerOwnKeys[key] && !middleware[key] {
			extra = append(extra, key)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing) > 0 {
		t.Errorf("middleware keys the provider's apps do not pass through: %v", missing)
	}
	if len(extra) > 0 {
		t.Errorf("provider app keys that are neither the provider's own nor a middleware key: %v", extra)
	}
}

// TestProviderKnowsTheDefaultAffinityHeader: the provider's strip middleware removes
// the affinity header of an app that leaves it to the middleware's default.
func TestProviderKnowsTheDefaultAffinityHeader(t *testing.T) {
	if got, want := provider.DefaultAffinityHeader, storeaffinity.CreateConfig().AffinityHeader; got != want {
		t.Errorf("provider.DefaultAffinityHeader %q, the middleware's default %q", got, want)
	}
}
