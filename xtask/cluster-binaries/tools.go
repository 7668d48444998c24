//go:build tools

// Package tools pins the Kubernetes control plane the e2e harness runs: kube-apiserver,
// kube-controller-manager and kube-scheduler from k8s.io/kubernetes, and etcd at the version
// Kubernetes itself requires; and the real node of `cargo xtask node-e2e`: kubelet and kube-proxy. k8s.io/kubernetes cannot be `go install`ed (its go.mod replaces its
// staging modules with local paths), so this module requires it and replaces every staging
// module with its published version; go.sum pins every byte.
package tools

import (
	_ "go.etcd.io/etcd/server/v3"
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubelet"
	_ "k8s.io/kubernetes/cmd/kube-proxy"
)
