// Package chaos is the end-to-end chaos suite. Three demo Commerce replicas run as
// processes of their own behind two real Traefik v3.6.12 processes that share one
// static discovery with health checks, while 200 stores keep a POS WebSocket through
// one proxy and a CX WebSocket through the other and make REST calls through both.
// The test kills and restarts the replicas and checks, from samples taken every
// 100 ms, that every store fails over within the health check's bound, that only the
// dead replica's stores see errors, that the two proxies agree on every store, and
// that every store comes back whole to its rendezvous owner.
package chaos
