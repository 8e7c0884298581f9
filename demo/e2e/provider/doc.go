// Package provider holds the end-to-end tests of the provider plugin: the same
// scenarios run on the compiled package and on the sources interpreted by Yaegi
// v0.16.1 the way Traefik v3.6.12 loads them, against a real DNS server and a real
// kube-apiserver.
package provider
