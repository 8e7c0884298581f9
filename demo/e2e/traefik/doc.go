// Package traefik is the end-to-end suite through a real Traefik v3.6.12 process: both
// plugins load as local plugins in front of demo Commerce replicas, and real HTTP,
// WebSocket and SSE clients check store affinity, round-robin, forgery resistance,
// rebalancing on a membership change, agreement between two proxies, bad input, and
// the manifests' testData.
//
// The Traefik binary is built once into the cache by scripts/install-traefik.sh.
package traefik
