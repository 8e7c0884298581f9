package compose

import (
	"os"
	"testing"
	"time"

	"github.com/storeaffinity/storeaffinity-provider"
	"github.com/storeaffinity/storeaffinity/demo/harness/stack"
	"github.com/traefik/paerser/file"
	"github.com/traefik/traefik/v3/pkg/config/static"
	"gopkg.in/yaml.v3"
)

// drainMargin is what the drain keeps beyond the moment the last moved store's
// sessions end: the clients' reconnects and a short request still on its way.
const drainMargin = 2 * time.Second

// replicaShutdown is the longest the replica takes to close once the drain has ended.
const replicaShutdown = 2 * time.Second

// TestDrainOutlastsTheStoresMove: a stopping replica keeps serving (its -drain) until
// the provider's health check has dropped it, Traefik has applied the change and its
// stores' sessions have ended (rebalanceGrace + rebalanceSpread), and Docker does not
// kill it before it has closed (stop_grace_period).
func TestDrainOutlastsTheStoresMove(t *testing.T) {
	var conf static.Configuration
	if err := file.Decode(staticPath, &conf); err != nil {
		t.Fatalf("%s: %v", staticPath, err)
	}
	config := provider.CreateConfig()
	if err := stack.DecodePluginConfig(conf.Providers.Plugin["storeaffinityprovider"], config); err != nil {
		t.Fatal(err)
	}
	app := config.Apps[0]
	if app.HealthCheck == nil || app.HealthCheck.Path != "/healthz" {
		t.Fatalf("%s: app %s has no healthCheck on /healthz, which a draining replica fails: %+v", staticPath, app.Name, app.HealthCheck)
	}
	grace := duration(t, "rebalanceGrace", app.RebalanceGrace, 5*time.Second)
	spread := duration(t, "rebalanceSpread", app.RebalanceSpread, 0)
	interval := duration(t, "healthCheck.interval", app.HealthCheck.Interval, 2*time.Second)
	fails := app.HealthCheck.Fails
	if fails == 0 {
		fails = 2
	}
	throttle := time.Duration(conf.Providers.ProvidersThrottleDuration)
	if throttle == 0 {
		throttle = 2 * time.Second
	}
	detection := interval*time.Duration(fails) + throttle

	content, err := os.ReadFile(composePath)
	if err != nil {
		t.Fatal(err)
	}
	var compose struct {
		Services map[string]struct {
			Command         []string `yaml:"command"`
			StopGracePeriod string   `yaml:"stop_grace_period"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(content, &compose); err != nil {
		t.Fatalf("%s: %v", composePath, err)
	}
	commerce := compose.Services[service]
	drain := time.Duration(0)
	for i, arg := range commerce.Command {
		if arg == "-drain" && i+1 < len(commerce.Command) {
			drain = duration(t, "-drain", commerce.Command[i+1], 0)
		}
	}
	stop := duration(t, "stop_grace_period", commerce.StopGracePeriod, 10*time.Second)

	if need := grace + spread + detection + drainMargin; drain < need {
		t.Errorf("%s: the %s replica drains %v, want at least %v: rebalanceGrace %v + rebalanceSpread %v + health check %v × %d + providers throttle %v + margin %v",
			composePath, service, drain, need, grace, spread, interval, fails, throttle, drainMargin)
	}
	if need := drain + replicaShutdown; stop < need {
		t.Errorf("%s: stop_grace_period %v, want at least the drain %v + the replica's shutdown %v", composePath, stop, drain, replicaShutdown)
	}
}

// duration parses a duration option, or returns fallback when it is empty.
func duration(t *testing.T, key, value string, fallback time.Duration) time.Duration {
	t.Helper()
	if value == "" {
		return fallback
	}
	d, err := time.ParseDuration(value)
	if err != nil {
		t.Fatalf("%s: %v", key, err)
	}
	return d
}
