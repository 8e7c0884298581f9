// Package yaegi runs the middleware and hashing code under the Yaegi interpreter, as
// Traefik loads them: the shared behaviour suite, a compiled-versus-interpreted check of
// the hashing, and per-request benchmarks against an interpreted do-nothing floor.
package yaegi
