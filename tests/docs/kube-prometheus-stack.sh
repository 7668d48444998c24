#!/usr/bin/env bash
# What kube-prometheus-stack (release kube-prometheus-stack, namespace monitoring) leaves in a
# cluster that docs/monitoring.md's install needs: the Prometheus Operator's CRDs of the chart's
# kinds (the pinned files of tests/crd-schemas/) and the namespace monitoring, where the
# dashboard's ConfigMap goes. Idempotent: other runs may have made them.
set -euo pipefail
kubectl apply --server-side \
  -f tests/crd-schemas/monitoring.coreos.com_podmonitors.yaml \
  -f tests/crd-schemas/monitoring.coreos.com_prometheusrules.yaml
kubectl wait --for condition=established --timeout=60s \
  crd/podmonitors.monitoring.coreos.com crd/prometheusrules.monitoring.coreos.com
kubectl create ns monitoring --dry-run=client -o yaml | kubectl apply -f -
