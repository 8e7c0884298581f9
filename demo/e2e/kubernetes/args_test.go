package kubernetes

import (
	"fmt"
	"net"
	"regexp"
	"slices"
	"strings"
)

// unknownToV3612 names the rendered arguments that Traefik v3.6.12 does not know (the
// chart targets v3.7). Each is dropped by name and nothing else is. With
// demo/k8s/values.yaml the chart renders none: v3.7-only flags such as
// providers.kubernetescrd.crossProviderNamespaces, safeNaming and
// core.strictTLSOptions appear only when set away from their defaults.
var unknownToV3612 []string

// webPort is the chart's web entry point (ports.web.port) and the listener port of
// demo/k8s/gateway.yaml: Traefik's Gateway provider matches listeners to entry points
// by port, so the test keeps it and only narrows the address to loopback.
const webPort = "8000"

// testTarget is what points Traefik at the test API server and keeps it on loopback.
type testTarget struct {
	Endpoint      string // the API server
	CAFile        string
	TraefikToken  string // a TokenRequest token of the chart's ServiceAccount
	ProviderToken string // the file of a TokenRequest token of storeaffinity-provider
	// Ports for the entry points other than web, by name.
	Ports map[string]string
}

var entryPointAddress = regexp.MustCompile(`^--entryPoints\.([A-Za-z0-9]+)\.address=:([0-9]+)(/tcp)?$`)

const tokenFileArg = "--providers.plugin.storeaffinityprovider.apps[0].kubernetes.tokenFile="

// testArgs returns the chart's args as the test runs them: the unknown ones dropped,
// the entry points on 127.0.0.1, our provider's token file replaced, and the API
// server's endpoint, token and CA added for the three providers. It also returns
// what it changed, for the log.
func testArgs(rendered []string, target testTarget) (args []string, changes []string, err error) {
	for _, arg := range rendered {
		name, _, _ := strings.Cut(arg, "=")
		switch m := entryPointAddress.FindStringSubmatch(arg); {
		case slices.Contains(unknownToV3612, name):
			changes = append(changes, "dropped "+arg+" (unknown to Traefik v3.6.12)")
			continue
		case m != nil:
			port := webPort
			if m[1] != "web" {
				if port = target.Ports[m[1]]; port == "" {
					return nil, nil, fmt.Errorf("no test port for entry point %s", m[1])
				}
			} else if m[2] != webPort {
				return nil, nil, fmt.Errorf("the chart's web entry point is on port %s, gateway.yaml listens on %s", m[2], webPort)
			}
			replaced := "--entryPoints." + m[1] + ".address=" + net.JoinHostPort("127.0.0.1", port) + m[3]
			changes = append(changes, "narrowed "+arg+" to "+replaced)
			arg = replaced
		case strings.HasPrefix(arg, tokenFileArg):
			changes = append(changes, "replaced "+arg+" with the TokenRequest token's file")
			arg = tokenFileArg + target.ProviderToken
		}
		args = append(args, arg)
	}
	added := []string{
		"--providers.kubernetescrd.endpoint=" + target.Endpoint,
		"--providers.kubernetescrd.token=" + target.TraefikToken,
		"--providers.kubernetescrd.certAuthFilePath=" + target.CAFile,
		"--providers.kubernetesgateway.endpoint=" + target.Endpoint,
		"--providers.kubernetesgateway.token=" + target.TraefikToken,
		"--providers.kubernetesgateway.certAuthFilePath=" + target.CAFile,
		"--providers.plugin.storeaffinityprovider.apps[0].kubernetes.endpoint=" + target.Endpoint,
		"--providers.plugin.storeaffinityprovider.apps[0].kubernetes.certAuthFilePath=" + target.CAFile,
	}
	for _, arg := range added {
		name, _, _ := strings.Cut(arg, "=")
		changes = append(changes, "added "+name)
	}
	return append(args, added...), changes, nil
}
