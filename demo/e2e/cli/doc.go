// Package cli runs the storeaffinity command-line binary against a real kube-apiserver
// (package kubeapi): the members subcommand reads live EndpointSlices through a
// kubeconfig, as an operator runs it.
package cli
