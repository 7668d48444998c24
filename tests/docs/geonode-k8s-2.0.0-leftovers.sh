#!/usr/bin/env bash
# What a community-chart release (GeoNodeUserGroup-DE/geonode-k8s 2.0.0) named `geonode` has in
# the namespace given as `-n <namespace>`: see README.md beside this file for where each name
# comes from.
set -euo pipefail
if [ "$#" -ne 2 ] || [ "$1" != -n ]; then
  echo "usage: $0 -n <namespace>" >&2
  exit 2
fi
ns=$2
release=geonode
kubectl create namespace "$ns"
random() { openssl rand -hex 16; }

# Claims (templates/geonode/geonode-pvc.yaml: pvc-<release>-geonode-*, global.accessMode
# ReadWriteMany by default) and the Zalando cluster's data claim (pgdata-<cluster>-<n>).
claim() {
  kubectl -n "$ns" apply -f - <<YAML
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: $1, labels: {app.kubernetes.io/instance: $release}}
spec: {accessModes: [$2], resources: {requests: {storage: $3}}}
YAML
}
claim "pvc-$release-geonode-statics" ReadWriteMany 2Gi
claim "pvc-$release-geonode-geoserver-data" ReadWriteMany 2Gi
claim "pvc-$release-geonode-backup-restore" ReadWriteMany 2Gi
claim "pvc-$release-geonode-data" ReadWriteMany 4Gi
claim "pgdata-$release-postgres-0" ReadWriteOnce 3Gi

# GeoNode's and GeoServer's Secrets (templates/geonode/geonode-secret.yaml,
# templates/geoserver/geoserver-secret.yaml): the chart's published defaults stand in.
kubectl -n "$ns" create secret generic "$release-geonode-secret" \
  --from-literal=ADMIN_USERNAME=admin --from-literal=ADMIN_PASSWORD=geonode \
  --from-literal=ADMIN_EMAIL=admin@example.org --from-literal=DJANGO_EMAIL_HOST_USER= \
  --from-literal=DJANGO_EMAIL_HOST_PASSWORD= --from-literal=DEFAULT_FROM_EMAIL=geonode@example.org \
  --from-literal=OAUTH2_API_KEY= --from-literal=OAUTH2_CLIENT_ID=published-client-id \
  --from-literal=OAUTH2_CLIENT_SECRET=published-client-secret \
  --from-literal=SECRET_KEY=published-secret-key --from-literal=BING_API_KEY=
kubectl -n "$ns" create secret generic "$release-geoserver-secret" \
  --from-literal=GEOSERVER_ADMIN_USER=admin --from-literal=GEOSERVER_ADMIN_PASSWORD=geoserver \
  --from-literal=GEOSERVER_FACTORY_PASSWORD=geoserver --from-literal=OAUTH2_API_KEY= \
  --from-literal=OAUTH2_CLIENT_ID=published-client-id \
  --from-literal=OAUTH2_CLIENT_SECRET=published-client-secret

# The Zalando operator's credentials: <user>.<cluster>.credentials.postgresql.acid.zalan.do with
# username and password, for the superuser and the two owners the chart's CR declares.
for user in postgres geonode geodata; do
  kubectl -n "$ns" create secret generic "$user.$release-postgres.credentials.postgresql.acid.zalan.do" \
    --from-literal=username="$user" --from-literal=password="$(random)"
done

# The Zalando cluster: its pods (application=spilo, cluster-name=<cluster>) and its Service.
kubectl -n "$ns" apply -f - <<YAML
apiVersion: v1
kind: Service
metadata: {name: $release-postgres, labels: {application: spilo, cluster-name: $release-postgres}}
spec: {ports: [{name: postgresql, port: 5432, targetPort: 5432}]}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: $release-postgres, labels: {application: spilo, cluster-name: $release-postgres}}
spec:
  replicas: 1
  serviceName: $release-postgres
  selector: {matchLabels: {application: spilo, cluster-name: $release-postgres}}
  template:
    metadata: {labels: {application: spilo, cluster-name: $release-postgres, spilo-role: master}}
    spec:
      # A stand-in image: the e2e nodes run no containers.
      containers: [{name: postgres, image: spilo-stand-in:1}]
YAML

# The site's workloads (templates/*/…-deploy.yaml): GeoNode with Celery, GeoServer, pyCSW, nginx.
for kind_name in StatefulSet/geonode StatefulSet/geoserver StatefulSet/pycsw Deployment/nginx; do
  kind=${kind_name%/*} name=$release-${kind_name#*/}
  governing=""
  if [ "$kind" = StatefulSet ]; then governing="serviceName: $name"; fi
  kubectl -n "$ns" apply -f - <<YAML
apiVersion: apps/v1
kind: $kind
metadata: {name: $name, labels: {app.kubernetes.io/instance: $release}}
spec:
  replicas: 1
  $governing
  selector: {matchLabels: {app: $name}}
  template:
    metadata: {labels: {app: $name}}
    spec:
      containers: [{name: main, image: geonode/geonode:5.1.0}]
YAML
done
