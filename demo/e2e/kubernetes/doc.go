// Package kubernetes tests the whole Kubernetes path for real: the official Traefik
// Helm chart rendered with demo/k8s/values.yaml, every rendered object, CRD and
// demo/k8s manifest applied to a real kube-apiserver, and the real Traefik binary run
// with the chart's container arguments. The backends run in network namespaces, are
// registered in EndpointSlices as the StatefulSet controller would, and are reached
// through the IngressRoute and the HTTPRoute of demo/k8s.
package kubernetes
